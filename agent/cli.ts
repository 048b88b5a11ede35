import { readFile, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CommanderError } from 'commander';
import { ReportSchema } from '../core/nodes';
import { createCollector } from './collect';
import { readLibvirt } from './libvirt';
import { createLog, errorText, type Log } from './log';
import { notifyOnce } from './notify';
import { Outbox, type SnsTarget, snsPublisher } from './outbox';
import { parseArgs } from './program';
import { reportOnce, runReporter } from './reporter';
import { type AgentConfig, resolveConfig, resolveNotifyConfig, UsageError } from './settings';
import { nextSeq, readState } from './state';
import { DomainTracker } from './tracker';
import { listedUuids } from './virsh';
import { watchLibvirt } from './watch';

/**
 * `qm-agent`: the command line (`program.ts`), its settings (`settings.ts`), and what
 * each mode runs: `--print`, `--once`, the loop (reporter + notifier), `notify`.
 *
 * Exit codes: 0 done, 1 the report failed (`notify`: the notification was not sent; it
 * stays queued in the outbox unless the outbox could not be written), 2 bad usage or
 * configuration.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The clock of the loops and the log; below `main` everything takes it as `now`. */
const systemClock = () => new Date();

/** The token in a `--token-file`: its one line, trimmed; an empty file is an error. */
const readTokenFile = async (path: string): Promise<string> => {
  const text = (await readFile(path, 'utf8')).trim();
  if (!text || /\s/.test(text)) throw new Error(`${path} must hold one token on one line`);
  return text;
};

const write = (stream: NodeJS.WriteStream, text: string) =>
  new Promise<void>((done) => {
    stream.write(text, () => done());
  });

/**
 * The token source: a fixed token, or the token file re-read before every report. A file
 * that cannot be read at start is a setup mistake: a UsageError now, not an error in every
 * report line.
 */
const tokenSource = async (config: AgentConfig, log: Log): Promise<string | (() => Promise<string>)> => {
  const { tokenFile } = config;
  if (!tokenFile) return config.token ?? '';
  const token = () => readTokenFile(tokenFile);
  try {
    await token();
    if ((await stat(tokenFile)).mode & 0o004) {
      log('token', { file: tokenFile, warning: 'readable by every user; chmod 0640' });
    }
  } catch (e) {
    throw new UsageError(`--token-file: ${errorText(e)}`);
  }
  return token;
};

/**
 * The notification side of the running agent: watches libvirt, diffs the domains,
 * publishes through the outbox. Resolves when `signal` aborts and all is stopped.
 */
const runNotifier = async (
  config: AgentConfig & { sns: SnsTarget },
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  log: Log,
  now: () => Date,
) => {
  const sns = snsPublisher(config.sns);
  const tracker = new DomainTracker({
    host: config.host,
    stateFile: config.stateFile,
    outbox: Outbox.forStateFile(config.stateFile, { log }),
    publish: sns.publish,
    // Sized as the report sizes them: disks under the instances path, as given and as its realpath.
    list: async () => {
      const given = resolve(config.instancesPath);
      const real = await realpath(given).catch(() => given);
      const instancesPath = real === given ? [given] : [given, real];
      return (await readLibvirt({ uri: config.libvirtUri, instancesPath, env })).instances;
    },
    listed: () => listedUuids(config.libvirtUri, env),
    log,
    now,
  });
  try {
    await watchLibvirt({
      uri: config.libvirtUri,
      env,
      pollMs: config.pollMs,
      look: (reason) => tracker.look(reason),
      signal,
      log,
      now,
    });
  } finally {
    await tracker.stop();
    sns.close();
  }
};

/** Reads this host for every report. */
const collectorOf = (config: AgentConfig, env: NodeJS.ProcessEnv, log: Log) =>
  createCollector({
    host: config.host,
    instancesPath: config.instancesPath,
    availabilityZone: config.availabilityZone,
    libvirtUri: config.libvirtUri,
    env,
    log,
  });

/** `--print`: the report as JSON on stdout; 1 when it would not pass the API's schema. */
const printReport = async (config: AgentConfig, collect: ReturnType<typeof createCollector>, now: () => Date) => {
  const { seq } = await readState(config.stateFile, config.host);
  const at = now();
  const report = { ...(await collect()), seq: nextSeq(seq, at.getTime()), reported_at: at.toISOString() };
  await write(process.stdout, `${JSON.stringify(report, null, 2)}\n`);
  const checked = ReportSchema.safeParse(report);
  if (checked.success) return EXIT.ok;
  await write(process.stderr, `qm-agent: the report does not pass ReportSchema: ${checked.error.message}\n`);
  return EXIT.failed;
};

/** The agent proper: one report (`--once`), or the reporter and the notifier until SIGINT/SIGTERM. */
const runAgent = async (config: AgentConfig & { apiUrl: string }, env: NodeJS.ProcessEnv, log: Log) => {
  const now = systemClock;
  const token = await tokenSource(config, log);
  const collect = collectorOf(config, env, log);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { apiUrl, host, stateFile } = config;
    const options = { apiUrl, token, host, stateFile, collect, signal: stop.signal, log, now };
    if (config.once) return (await reportOnce(options)).kind === 'ok' ? EXIT.ok : EXIT.failed;
    const { sns } = config;
    log('start', {
      host,
      api: apiUrl,
      interval: `${config.intervalMs / 1000}s`,
      state: stateFile,
      sns: sns?.topicArn,
      sns_endpoint: sns?.endpoint,
      libvirt: sns ? config.libvirtUri : undefined,
    });
    await Promise.all([
      // The reporter reads the host every poll and reports at once when a figure changes, and the
      // instance list is a figure: a domain that comes or goes is reported within one poll.
      runReporter({ ...options, intervalMs: config.intervalMs, pollMs: Math.min(config.intervalMs, config.pollMs) }),
      // A bug in the notifier must not take the reporter down with it.
      sns
        ? runNotifier({ ...config, sns }, env, stop.signal, log, now).catch((e: unknown) => {
            log('notify', { host, status: 'stopped', error: errorText(e) });
          })
        : undefined,
    ]);
    log('stop', { host });
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};

/** What `main` runs once the command line is understood. */
const run = async (argv: string[], env: NodeJS.ProcessEnv): Promise<number> => {
  const parsed = parseArgs(argv);
  if (parsed.kind === 'notify') {
    const c = resolveNotifyConfig(parsed.eventType, parsed.flags, env);
    const outcome = await notifyOnce(c, createLog({ format: c.logFormat, now: systemClock }), systemClock);
    if (outcome.kind !== 'unwritten') await write(process.stdout, `${outcome.messageId}\n`);
    return outcome.kind === 'sent' ? EXIT.ok : EXIT.failed;
  }
  const config = resolveConfig(parsed.flags, env);
  const log = createLog({ format: config.logFormat, now: systemClock });
  if (config.print) return printReport(config, collectorOf(config, env, log), systemClock);
  const { apiUrl } = config;
  const hasToken = Boolean(config.token || config.tokenFile);
  if (!apiUrl || !hasToken) {
    const missing = [
      !apiUrl && '--api-url (or QM_API_URL)',
      !hasToken && '--token (or QM_TOKEN) or --token-file (or QM_TOKEN_FILE)',
    ].filter(Boolean);
    throw new UsageError(`${missing.join(' and ')} required unless --print is given`);
  }
  return runAgent({ ...config, apiUrl }, env, log);
};

/**
 * Runs `qm-agent` with `argv` (as process.argv) and `env`; resolves to the exit code.
 * Stops cleanly, with 0, on SIGINT or SIGTERM.
 */
export const main = async (argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> => {
  try {
    return await run(argv, env);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (e instanceof UsageError) {
      await write(process.stderr, `qm-agent: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
};
