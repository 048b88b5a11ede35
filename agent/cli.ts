import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ReportSchema } from '../core/nodes';
import { HOST_PATTERN } from '../core/schema';
import { createCollector, DEFAULT_INSTANCES_PATH, DEFAULT_VIRSH_URI } from './collect';
import { reportOnce, runReporter, stamp } from './reporter';
import { defaultStateFile, nextSeq, readState } from './state';

/** Exit codes: 0 done, 1 the report failed, 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface Flags {
  apiUrl?: string;
  token?: string;
  interval?: string;
  instancesPath?: string;
  availabilityZone?: string;
  once?: boolean;
  print?: boolean;
  host?: string;
  stateFile?: string;
  virshUri?: string;
}

/** The agent's settings after flags and `QM_*` env are merged (flags win). */
export interface AgentConfig {
  apiUrl?: string;
  token?: string;
  intervalMs: number;
  instancesPath: string;
  availabilityZone?: string;
  once: boolean;
  print: boolean;
  host: string;
  stateFile: string;
  virshUri: string;
}

class UsageError extends Error {}

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
const nonEmpty = (v: string | undefined): string | undefined => (v?.trim() ? v.trim() : undefined);

const program = (): Command =>
  new Command('qm-agent')
    .description("Reports this host's capacity and usage to Quartermaster (PUT /nodes/{host}).")
    .option('--api-url <url>', 'Quartermaster API base URL (env QM_API_URL)')
    .option('--token <token>', 'node token for this host (env QM_TOKEN)')
    .option('--interval <seconds>', 'seconds between reports (env QM_INTERVAL, default 60)')
    .option(
      '--instances-path <path>',
      `where instance disks live (env QM_INSTANCES_PATH, default ${DEFAULT_INSTANCES_PATH})`,
    )
    .option('--availability-zone <az>', 'availability zone to report (env QM_AVAILABILITY_ZONE)')
    .option('--once', 'send one report and exit: 0 on success (env QM_ONCE=1)')
    .option('--print', 'print the report as JSON and send nothing (env QM_PRINT=1)')
    .option('--host <name>', 'hypervisor_hostname (env QM_HOST, default the hostname)')
    .option(
      '--state-file <path>',
      'where seq survives restarts (env QM_STATE_FILE, default ~/.quartermaster/agent-<host>.json)',
    )
    .option('--virsh-uri <uri>', `libvirt URI for virsh (env QM_VIRSH_URI, default ${DEFAULT_VIRSH_URI})`)
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

/** Merges flags over `QM_*` env and checks them; throws UsageError naming the bad setting. */
export const resolveConfig = (flags: Flags, env: NodeJS.ProcessEnv): AgentConfig => {
  const host = nonEmpty(flags.host) ?? nonEmpty(env.QM_HOST) ?? hostname();
  if (!HOST_PATTERN.test(host)) throw new UsageError(`--host: '${host}' is not a hostname`);
  const intervalText = nonEmpty(flags.interval) ?? nonEmpty(env.QM_INTERVAL) ?? '60';
  const interval = Number(intervalText);
  if (!Number.isFinite(interval) || interval <= 0) {
    throw new UsageError(`--interval: '${intervalText}' is not a positive number of seconds`);
  }
  const stateFile = nonEmpty(flags.stateFile) ?? nonEmpty(env.QM_STATE_FILE);
  return {
    apiUrl: nonEmpty(flags.apiUrl) ?? nonEmpty(env.QM_API_URL),
    token: nonEmpty(flags.token) ?? nonEmpty(env.QM_TOKEN),
    intervalMs: Math.round(interval * 1000),
    instancesPath: nonEmpty(flags.instancesPath) ?? nonEmpty(env.QM_INSTANCES_PATH) ?? DEFAULT_INSTANCES_PATH,
    availabilityZone: nonEmpty(flags.availabilityZone) ?? nonEmpty(env.QM_AVAILABILITY_ZONE),
    once: flags.once === true || truthy(env.QM_ONCE),
    print: flags.print === true || truthy(env.QM_PRINT),
    host,
    stateFile: stateFile ? resolve(stateFile) : defaultStateFile(host),
    virshUri: nonEmpty(flags.virshUri) ?? nonEmpty(env.QM_VIRSH_URI) ?? DEFAULT_VIRSH_URI,
  };
};

const write = (stream: NodeJS.WriteStream, text: string) =>
  new Promise<void>((done) => {
    stream.write(text, () => done());
  });

/**
 * Runs `qm-agent` with `argv` (as process.argv) and `env`; resolves to the exit code.
 * Stops cleanly, with 0, on SIGINT or SIGTERM.
 */
export const main = async (argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> => {
  let config: AgentConfig;
  try {
    const cmd = program();
    cmd.parse(argv, { from: 'node' });
    config = resolveConfig(cmd.opts<Flags>(), env);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (e instanceof UsageError) {
      await write(process.stderr, `qm-agent: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  const collect = createCollector({
    host: config.host,
    instancesPath: config.instancesPath,
    availabilityZone: config.availabilityZone,
    virshUri: config.virshUri,
    env,
  });

  if (config.print) {
    const { seq } = await readState(config.stateFile, config.host);
    const report = { ...(await collect()), seq: nextSeq(seq, Date.now()), reported_at: new Date().toISOString() };
    await write(process.stdout, `${JSON.stringify(report, null, 2)}\n`);
    const checked = ReportSchema.safeParse(report);
    if (checked.success) return EXIT.ok;
    await write(process.stderr, `qm-agent: the report does not pass ReportSchema: ${checked.error.message}\n`);
    return EXIT.failed;
  }

  const { apiUrl, token } = config;
  if (!apiUrl || !token) {
    const missing = [!apiUrl && '--api-url (or QM_API_URL)', !token && '--token (or QM_TOKEN)'].filter(Boolean);
    await write(process.stderr, `qm-agent: ${missing.join(' and ')} required unless --print is given\n`);
    return EXIT.usage;
  }

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const options = { apiUrl, token, host: config.host, stateFile: config.stateFile, collect, signal: stop.signal };
    if (config.once) {
      const result = await reportOnce(options);
      return result.kind === 'ok' ? EXIT.ok : EXIT.failed;
    }
    process.stderr.write(
      `${stamp()} start host=${config.host} api=${apiUrl} interval=${config.intervalMs / 1000}s state=${config.stateFile}\n`,
    );
    await runReporter({ ...options, intervalMs: config.intervalMs });
    process.stderr.write(`${stamp()} stop host=${config.host}\n`);
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};
