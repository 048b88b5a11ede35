import { randomUUID } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { BadNotification, parseNotification } from '../core/events';
import { ReportSchema } from '../core/nodes';
import { HOST_PATTERN, UUID_PATTERN } from '../core/schema';
import { createCollector, DEFAULT_INSTANCES_PATH, DEFAULT_LIBVIRT_URI } from './collect';
import { readLibvirt } from './libvirt';
import { type Notification, notification } from './notifications';
import { Outbox, type SnsTarget, snsPublisher } from './outbox';
import { fields, reportOnce, runReporter, stamp } from './reporter';
import { defaultStateFile, nextSeq, readState } from './state';
import { DomainTracker, listedUuids, watchLibvirt } from './watch';

/**
 * Exit codes: 0 done, 1 the report failed (`notify`: the notification was not sent; it
 * stays queued in the outbox unless the outbox could not be written), 2 bad usage or
 * configuration.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Seconds between looks at the domains when libvirt sends no events. */
export const DEFAULT_POLL_INTERVAL_S = 5;

interface SnsFlags {
  snsTopicArn?: string;
  snsEndpoint?: string;
  snsRegion?: string;
}

interface NotifyFlags extends SnsFlags {
  instance?: string;
  vcpus?: string;
  memoryMb?: string;
  diskGb?: string;
  host?: string;
  stateFile?: string;
}

interface Flags extends SnsFlags {
  apiUrl?: string;
  token?: string;
  tokenFile?: string;
  interval?: string;
  instancesPath?: string;
  availabilityZone?: string;
  once?: boolean;
  print?: boolean;
  host?: string;
  stateFile?: string;
  libvirtUri?: string;
  /** Hidden alias of --libvirt-uri. */
  virshUri?: string;
  pollInterval?: string;
}

/** The agent's settings after flags and `QM_*` env are merged (flags win). */
export interface AgentConfig {
  apiUrl?: string;
  token?: string;
  /** Read before every report instead of `token`, so the token is replaced without a restart. */
  tokenFile?: string;
  intervalMs: number;
  instancesPath: string;
  availabilityZone?: string;
  once: boolean;
  print: boolean;
  host: string;
  stateFile: string;
  libvirtUri: string;
  /** Where notifications go; unset: the agent publishes none. */
  sns?: SnsTarget;
  /** Between looks at the domains when libvirt sends no events. */
  pollMs: number;
}

class UsageError extends Error {}

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
const nonEmpty = (v: string | undefined): string | undefined => (v?.trim() ? v.trim() : undefined);

const output = { writeOut: (t: string) => process.stdout.write(t), writeErr: (t: string) => process.stderr.write(t) };

/** The SNS flags, shared by the agent and `notify`. */
const snsOptions = (cmd: Command): Command =>
  cmd
    .option('--sns-topic-arn <arn>', 'publish lifecycle notifications to this SNS topic (env QM_SNS_TOPIC_ARN)')
    .option('--sns-endpoint <url>', 'SNS endpoint, e.g. a local stack (env QM_SNS_ENDPOINT)')
    .option('--sns-region <region>', "SNS region (env QM_SNS_REGION, AWS_REGION; default the topic's, else us-east-1)");

/** What the command line asked for: the agent loop, or one notification. */
type Parsed = { kind: 'agent'; flags: Flags } | { kind: 'notify'; eventType: string; flags: NotifyFlags };

const program = (chosen: (p: Parsed) => void): Command => {
  const root = new Command('qm-agent')
    .description(
      "Reports this host's capacity and usage to Quartermaster (PUT /nodes/{host}); with --sns-topic-arn, " +
        'also publishes compute.instance.create.end / delete.end as libvirt domains appear and vanish.',
    )
    .enablePositionalOptions()
    .option('--api-url <url>', 'Quartermaster API base URL (env QM_API_URL)')
    .option('--token <token>', 'node token for this host (env QM_TOKEN)')
    .option(
      '--token-file <path>',
      'file holding the node token, re-read before every report so it can be replaced without a restart (env QM_TOKEN_FILE)',
    )
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
      'where seq survives restarts (env QM_STATE_FILE, default ~/.quartermaster/agent-<host>.json); ' +
        'the outbox and last-seen domains live beside it',
    )
    .option('--libvirt-uri <uri>', `libvirt connection URI (env QM_LIBVIRT_URI, default ${DEFAULT_LIBVIRT_URI})`)
    .addOption(new Option('--virsh-uri <uri>', 'old name of --libvirt-uri (env QM_VIRSH_URI)').hideHelp());
  snsOptions(root)
    .option(
      '--poll-interval <seconds>',
      `seconds between looks at the domains when libvirt sends no events (env QM_POLL_INTERVAL, default ${DEFAULT_POLL_INTERVAL_S})`,
    )
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput(output)
    .action(function (this: Command) {
      chosen({ kind: 'agent', flags: this.opts<Flags>() });
    });
  snsOptions(
    root
      .command('notify')
      .description(
        'publish one Nova notification (for a libvirt hook, or a Firecracker or container runtime wrapper); ' +
          'exit 0 when sent, 1 when it stays queued in the outbox, 2 on bad usage',
      )
      .argument('<event_type>', 'e.g. compute.instance.create.end or compute.instance.delete.end')
      .option('--instance <uuid>', 'the instance (payload instance_id)')
      .option('--vcpus <n>', 'payload vcpus (create.end needs it)')
      .option('--memory-mb <n>', 'payload memory_mb (create.end needs it)')
      .option('--disk-gb <n>', 'payload disk_gb (create.end needs it)')
      .option('--host <name>', 'publisher compute.<host> (env QM_HOST, default the hostname)')
      .option('--state-file <path>', 'whose outbox keeps the message until SNS takes it (env QM_STATE_FILE)'),
  )
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput(output)
    .action(function (this: Command, eventType: string) {
      // Root options given before `notify` count too; its own win.
      const own = Object.fromEntries(Object.entries(this.opts<NotifyFlags>()).filter(([, v]) => v !== undefined));
      chosen({ kind: 'notify', eventType, flags: { ...root.opts<NotifyFlags>(), ...own } });
    });
  return root;
};

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** The SNS target from flags over env; undefined when no topic is set. */
export const resolveSns = (flags: SnsFlags, env: NodeJS.ProcessEnv): SnsTarget | undefined => {
  const topicArn = nonEmpty(flags.snsTopicArn) ?? nonEmpty(env.QM_SNS_TOPIC_ARN);
  const endpoint = nonEmpty(flags.snsEndpoint) ?? nonEmpty(env.QM_SNS_ENDPOINT);
  if (!topicArn) {
    if (endpoint) throw new UsageError('--sns-endpoint needs --sns-topic-arn (or QM_SNS_TOPIC_ARN)');
    return undefined;
  }
  const arn = TOPIC_ARN.exec(topicArn);
  if (!arn) {
    throw new UsageError(
      `--sns-topic-arn: '${topicArn}' is not a standard SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`,
    );
  }
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new UsageError(`--sns-endpoint: '${endpoint}' is not an http(s) URL`);
  }
  const region =
    nonEmpty(flags.snsRegion) ?? nonEmpty(env.QM_SNS_REGION) ?? nonEmpty(env.AWS_REGION) ?? arn[1] ?? 'us-east-1';
  return { topicArn, region, ...(endpoint ? { endpoint } : {}) };
};

const hostFrom = (flags: { host?: string }, env: NodeJS.ProcessEnv): string => {
  const host = nonEmpty(flags.host) ?? nonEmpty(env.QM_HOST) ?? hostname();
  if (!HOST_PATTERN.test(host)) throw new UsageError(`--host: '${host}' is not a hostname`);
  return host;
};

const stateFileFrom = (flags: { stateFile?: string }, env: NodeJS.ProcessEnv, host: string): string => {
  const stateFile = nonEmpty(flags.stateFile) ?? nonEmpty(env.QM_STATE_FILE);
  return stateFile ? resolve(stateFile) : defaultStateFile(host);
};

const seconds = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name}: '${text}' is not a positive number of seconds`);
  return n;
};

/** Merges flags over `QM_*` env and checks them; throws UsageError naming the bad setting. */
export const resolveConfig = (flags: Flags, env: NodeJS.ProcessEnv): AgentConfig => {
  const host = hostFrom(flags, env);
  const interval = seconds('--interval', nonEmpty(flags.interval) ?? nonEmpty(env.QM_INTERVAL) ?? '60');
  const poll = seconds(
    '--poll-interval',
    nonEmpty(flags.pollInterval) ?? nonEmpty(env.QM_POLL_INTERVAL) ?? String(DEFAULT_POLL_INTERVAL_S),
  );
  const sns = resolveSns(flags, env);
  // A flag beats both env settings: --token-file over QM_TOKEN, --token over QM_TOKEN_FILE.
  const tokenFlag = nonEmpty(flags.token);
  const fileFlag = nonEmpty(flags.tokenFile);
  if (tokenFlag && fileFlag) throw new UsageError('give --token or --token-file, not both');
  const token = tokenFlag ?? (fileFlag ? undefined : nonEmpty(env.QM_TOKEN));
  const tokenFile = fileFlag ?? (tokenFlag ? undefined : nonEmpty(env.QM_TOKEN_FILE));
  if (token && tokenFile) throw new UsageError('QM_TOKEN and QM_TOKEN_FILE are both set; keep one');
  return {
    apiUrl: nonEmpty(flags.apiUrl) ?? nonEmpty(env.QM_API_URL),
    ...(token ? { token } : {}),
    ...(tokenFile ? { tokenFile: resolve(tokenFile) } : {}),
    intervalMs: Math.round(interval * 1000),
    instancesPath: nonEmpty(flags.instancesPath) ?? nonEmpty(env.QM_INSTANCES_PATH) ?? DEFAULT_INSTANCES_PATH,
    availabilityZone: nonEmpty(flags.availabilityZone) ?? nonEmpty(env.QM_AVAILABILITY_ZONE),
    once: flags.once === true || truthy(env.QM_ONCE),
    print: flags.print === true || truthy(env.QM_PRINT),
    host,
    stateFile: stateFileFrom(flags, env, host),
    libvirtUri:
      nonEmpty(flags.libvirtUri) ??
      nonEmpty(flags.virshUri) ??
      nonEmpty(env.QM_LIBVIRT_URI) ??
      nonEmpty(env.QM_VIRSH_URI) ??
      DEFAULT_LIBVIRT_URI,
    ...(sns ? { sns } : {}),
    pollMs: Math.round(poll * 1000),
  };
};

/** What `qm-agent notify` publishes, and where. */
export interface NotifyConfig {
  host: string;
  stateFile: string;
  sns: SnsTarget;
  eventType: string;
  payload: Record<string, unknown>;
}

const COUNT = /^\d{1,15}$/;

/** Checks `notify`'s flags over env; the notification must be one the notify function accepts. */
export const resolveNotifyConfig = (eventType: string, flags: NotifyFlags, env: NodeJS.ProcessEnv): NotifyConfig => {
  const host = hostFrom(flags, env);
  const sns = resolveSns(flags, env);
  if (!sns) throw new UsageError('--sns-topic-arn (or QM_SNS_TOPIC_ARN) is required');
  const instance = nonEmpty(flags.instance);
  if (!instance) throw new UsageError('--instance <uuid> is required');
  if (!UUID_PATTERN.test(instance)) throw new UsageError(`--instance: '${instance}' is not a uuid`);
  const payload: Record<string, unknown> = { instance_id: instance.toLowerCase() };
  for (const [flag, key, text] of [
    ['--vcpus', 'vcpus', flags.vcpus],
    ['--memory-mb', 'memory_mb', flags.memoryMb],
    ['--disk-gb', 'disk_gb', flags.diskGb],
  ] as const) {
    const t = nonEmpty(text);
    if (t === undefined) continue;
    if (!COUNT.test(t)) throw new UsageError(`${flag}: '${t}' is not a whole number`);
    payload[key] = Number(t);
  }
  payload.host = host;
  if (/\.create\.end$/.test(eventType.trim()) && !['vcpus', 'memory_mb', 'disk_gb'].every((k) => k in payload)) {
    throw new UsageError(`${eventType.trim()} needs --vcpus, --memory-mb and --disk-gb`);
  }
  // The notify function's own parser: what it would dead-letter is a usage error here.
  try {
    parseNotification(JSON.stringify(notification(host, eventType.trim(), payload, new Date(), randomUUID)));
  } catch (e) {
    if (e instanceof BadNotification) throw new UsageError(`${eventType}: ${e.message}`);
    throw e;
  }
  return { host, stateFile: stateFileFrom(flags, env, host), sns, eventType: eventType.trim(), payload };
};

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

/** A log line on stderr. */
const logLine = (line: string) => {
  process.stderr.write(`${line}\n`);
};

/**
 * `qm-agent notify`: queues one notification in the outbox of the state file, then
 * sends the outbox in order (older messages first). 0 when this one was sent, 1 when
 * it stays queued (the next flush of the same outbox sends it, with the same id).
 */
const notifyOnce = async (c: NotifyConfig): Promise<number> => {
  const n: Notification = notification(c.host, c.eventType, c.payload, new Date(), randomUUID);
  const outbox = Outbox.forStateFile(c.stateFile, { log: logLine });
  const sns = snsPublisher(c.sns);
  try {
    try {
      await outbox.enqueue([n]);
    } catch (e) {
      // Not even on disk (permissions, a full disk): say so; the caller may retry.
      logLine(
        `${stamp()} notify host=${c.host} event=${n.event_type} message_id=${n.message_id} status=error ` +
          `outbox=${outbox.dir} error=${JSON.stringify(e instanceof Error ? e.message : String(e))}`,
      );
      return EXIT.failed;
    }
    const result = await outbox.flush(sns.publish);
    for (const s of result.sent) {
      logLine(`${stamp()} notify host=${c.host} event=${s.event_type} message_id=${s.message_id} status=sent`);
    }
    const sent = result.sent.some((s) => s.message_id === n.message_id);
    if (!sent) {
      logLine(
        `${stamp()} notify host=${c.host} event=${n.event_type} message_id=${n.message_id} status=queued ` +
          `pending=${result.pending} outbox=${outbox.dir} error=${JSON.stringify(result.error ?? 'not sent')}`,
      );
    }
    await write(process.stdout, `${n.message_id}\n`);
    return sent ? EXIT.ok : EXIT.failed;
  } finally {
    sns.close();
  }
};

/**
 * The notification side of the running agent: watches libvirt, diffs the domains,
 * publishes through the outbox. Resolves when `signal` aborts and all is stopped.
 */
const runNotifier = async (config: AgentConfig & { sns: SnsTarget }, env: NodeJS.ProcessEnv, signal: AbortSignal) => {
  const sns = snsPublisher(config.sns);
  const tracker = new DomainTracker({
    host: config.host,
    stateFile: config.stateFile,
    outbox: Outbox.forStateFile(config.stateFile, { log: logLine }),
    publish: sns.publish,
    // Sized as the report sizes them: disks under the instances path, as given and as its realpath.
    list: async () => {
      const given = resolve(config.instancesPath);
      const real = await realpath(given).catch(() => given);
      const instancesPath = real === given ? [given] : [given, real];
      return (await readLibvirt({ uri: config.libvirtUri, instancesPath, env })).instances;
    },
    listed: () => listedUuids(config.libvirtUri, env),
  });
  try {
    await watchLibvirt({
      uri: config.libvirtUri,
      env,
      pollMs: config.pollMs,
      look: (reason) => tracker.look(reason),
      signal,
    });
  } finally {
    await tracker.stop();
    sns.close();
  }
};

const parse = (argv: string[]): Parsed => {
  let parsed: Parsed | undefined;
  program((p) => {
    parsed = p;
  }).parse(argv, { from: 'node' });
  if (!parsed) throw new UsageError('nothing to do');
  return parsed;
};

/**
 * Runs `qm-agent` with `argv` (as process.argv) and `env`; resolves to the exit code.
 * Stops cleanly, with 0, on SIGINT or SIGTERM.
 */
export const main = async (argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> => {
  let config: AgentConfig;
  try {
    const parsed = parse(argv);
    if (parsed.kind === 'notify') return await notifyOnce(resolveNotifyConfig(parsed.eventType, parsed.flags, env));
    config = resolveConfig(parsed.flags, env);
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
    libvirtUri: config.libvirtUri,
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

  const { apiUrl, tokenFile } = config;
  if (!apiUrl || !(config.token || tokenFile)) {
    const missing = [
      !apiUrl && '--api-url (or QM_API_URL)',
      !(config.token || tokenFile) && '--token (or QM_TOKEN) or --token-file (or QM_TOKEN_FILE)',
    ].filter(Boolean);
    await write(process.stderr, `qm-agent: ${missing.join(' and ')} required unless --print is given\n`);
    return EXIT.usage;
  }
  let token: string | (() => Promise<string>);
  if (tokenFile) {
    token = () => readTokenFile(tokenFile);
    try {
      // A file that cannot be read at start is a setup mistake: say so now, not in every report line.
      await token();
      if ((await stat(tokenFile)).mode & 0o004) {
        logLine(`${stamp()} token ${fields({ file: tokenFile, warning: 'readable by every user; chmod 0640' })}`);
      }
    } catch (e) {
      await write(process.stderr, `qm-agent: --token-file: ${e instanceof Error ? e.message : String(e)}\n`);
      return EXIT.usage;
    }
  } else token = config.token ?? '';

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
    const { sns } = config;
    process.stderr.write(
      `${stamp()} start host=${config.host} api=${apiUrl} interval=${config.intervalMs / 1000}s state=${config.stateFile}` +
        (sns
          ? ` sns=${sns.topicArn}${sns.endpoint ? ` sns_endpoint=${sns.endpoint}` : ''} libvirt=${config.libvirtUri}`
          : '') +
        '\n',
    );
    await Promise.all([
      // The reporter reads the host every poll and reports at once when a figure changes, and the
      // instance list is a figure: a domain that comes or goes is reported within one poll.
      runReporter({ ...options, intervalMs: config.intervalMs, pollMs: Math.min(config.intervalMs, config.pollMs) }),
      // A bug in the notifier must not take the reporter down with it.
      sns
        ? runNotifier({ ...config, sns }, env, stop.signal).catch((e: unknown) => {
            logLine(`${stamp()} notify host=${config.host} status=stopped error=${JSON.stringify(String(e))}`);
          })
        : undefined,
    ]);
    process.stderr.write(`${stamp()} stop host=${config.host}\n`);
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};
