import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { BadNotification, parseNotification } from '../core/events';
import { HOST_PATTERN, UUID_PATTERN } from '../core/schema';
import { DEFAULT_INSTANCES_PATH, DEFAULT_LIBVIRT_URI } from './collect';
import { LOG_FORMATS, type LogFormat } from './log';
import { notification } from './notifications';
import type { SnsTarget } from './outbox';
import { defaultStateFile } from './state';

/**
 * The agent's settings: ONE zod schema (`SETTINGS`) says, per setting, its flag
 * (the key, as commander names it: `apiUrl` is `--api-url`), its `QM_*` env twin
 * (the `sources` registry) and how its text is checked. `merge` reads both sources
 * off the schema, flag first; the schema turns the text into values; a failed check
 * is a `UsageError` that names the flag (exit 2).
 */

/** Bad usage or configuration: the message names the flag; `qm-agent` exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Seconds between looks at the domains when libvirt sends no events. */
export const DEFAULT_POLL_INTERVAL_S = 5;

/** Where a setting comes from besides its own flag. */
interface Sources {
  /** Env twins, in order; the first non-empty one counts when no flag is given. */
  env: readonly string[];
  /** Other flag keys for it, after its own (an old name). */
  aliases?: readonly string[];
  /**
   * Settings of one group exclude each other: a flag of the group beats every env
   * twin of the group (`--token-file` over `QM_TOKEN`), and two given is an error.
   */
  group?: string;
}

const sources = z.registry<Sources>();
/** `schema` as a setting read from `env` too; a copy, so settings that share a check keep their own sources. */
const from = <T extends z.ZodType>(schema: T, env: string | readonly string[], more: Omit<Sources, 'env'> = {}): T => {
  const own = schema.clone();
  sources.add(own, { env: typeof env === 'string' ? [env] : env, ...more });
  return own;
};

/** The flag of a setting key: `pollInterval` → `--poll-interval`. */
const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** A check that failed: the message to show, as zod issues carry it. */
const fail = (ctx: z.RefinementCtx, message: string): never => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

const text = z.string().optional();
const truthy = z
  .union([z.boolean(), z.string()])
  .optional()
  .transform((v) => v === true || (typeof v === 'string' && /^(1|true|yes|on)$/i.test(v)));
/** Seconds as text → whole milliseconds. */
const seconds = (key: string, dflt: number) =>
  z
    .string()
    .default(String(dflt))
    .transform((t, ctx) => {
      const n = Number(t);
      if (!Number.isFinite(n) || n <= 0) return fail(ctx, `${flagOf(key)}: '${t}' is not a positive number of seconds`);
      return Math.round(n * 1000);
    });
const hostName = z
  .string()
  .optional()
  .transform((h, ctx) => {
    const host = h ?? hostname();
    return HOST_PATTERN.test(host) ? host : fail(ctx, `--host: '${host}' is not a hostname`);
  });
const logFormat = z
  .string()
  .default('text')
  .transform(
    (f, ctx): LogFormat =>
      (LOG_FORMATS as readonly string[]).includes(f)
        ? (f as LogFormat)
        : fail(ctx, `--log-format: '${f}' is not ${LOG_FORMATS.join(' or ')}`),
  );
const COUNT = /^\d{1,15}$/;
const count = (key: string) =>
  text.transform((t, ctx) =>
    t === undefined ? undefined : COUNT.test(t) ? Number(t) : fail(ctx, `${flagOf(key)}: '${t}' is not a whole number`),
  );

/** Every setting of the agent and of `notify`, with its env twin where it has one. */
const SETTINGS = z.object({
  apiUrl: from(text, 'QM_API_URL'),
  token: from(text, 'QM_TOKEN', { group: 'token' }),
  tokenFile: from(text, 'QM_TOKEN_FILE', { group: 'token' }),
  interval: from(seconds('interval', 60), 'QM_INTERVAL'),
  instancesPath: from(z.string().default(DEFAULT_INSTANCES_PATH), 'QM_INSTANCES_PATH'),
  availabilityZone: from(text, 'QM_AVAILABILITY_ZONE'),
  once: from(truthy, 'QM_ONCE'),
  print: from(truthy, 'QM_PRINT'),
  host: from(hostName, 'QM_HOST'),
  stateFile: from(text, 'QM_STATE_FILE'),
  libvirtUri: from(z.string().default(DEFAULT_LIBVIRT_URI), ['QM_LIBVIRT_URI', 'QM_VIRSH_URI'], {
    aliases: ['virshUri'],
  }),
  snsTopicArn: from(text, 'QM_SNS_TOPIC_ARN'),
  snsEndpoint: from(text, 'QM_SNS_ENDPOINT'),
  snsRegion: from(text, ['QM_SNS_REGION', 'AWS_REGION']),
  pollInterval: from(seconds('pollInterval', DEFAULT_POLL_INTERVAL_S), 'QM_POLL_INTERVAL'),
  logFormat: from(logFormat, 'QM_LOG_FORMAT'),
  // `notify` only; no env twins.
  instance: text,
  vcpus: count('vcpus'),
  memoryMb: count('memoryMb'),
  diskGb: count('diskGb'),
});

type Shape = typeof SETTINGS.shape;

/** What commander hands over: each flag given, by key (`virshUri`: the hidden old name of `--libvirt-uri`). */
export type Flags = { [K in keyof Shape | 'virshUri']?: string | boolean };

const given = (v: unknown): string | boolean | undefined =>
  v === true ? true : typeof v === 'string' && v.trim() ? v.trim() : undefined;

/** Each setting of `shape` from its flags, else its env twins (trimmed; empty counts as unset). */
const merge = (shape: Partial<Shape>, flags: Flags, env: NodeJS.ProcessEnv): Record<string, string | boolean> => {
  const out: Record<string, string | boolean> = {};
  const byFlag = new Set<string>();
  const groups = new Map<string, string[]>();
  for (const [key, schema] of Object.entries(shape)) {
    const src = sources.get(schema as z.ZodType) ?? { env: [] };
    if (src.group) groups.set(src.group, [...(groups.get(src.group) ?? []), key]);
    const flag = [key, ...(src.aliases ?? [])].map((k) => given(flags[k as keyof Flags])).find((v) => v !== undefined);
    const value = flag ?? src.env.map((e) => given(env[e])).find((v) => v !== undefined);
    if (flag !== undefined) byFlag.add(key);
    if (value !== undefined) out[key] = value;
  }
  for (const keys of groups.values()) {
    const flagged = keys.some((k) => byFlag.has(k));
    // A flag beats both env settings: --token-file over QM_TOKEN, --token over QM_TOKEN_FILE.
    if (flagged) for (const k of keys) if (!byFlag.has(k)) delete out[k];
    if (keys.filter((k) => k in out).length < 2) continue;
    throw new UsageError(
      flagged
        ? `give ${keys.map(flagOf).join(' or ')}, not both`
        : `${keys.map((k) => sources.get(shape[k as keyof Shape] as z.ZodType)?.env[0]).join(' and ')} are both set; keep one`,
    );
  }
  return out;
};

/** Parses merged settings; the first failed check becomes a UsageError. */
const check = <T extends z.ZodType>(schema: T, merged: unknown): z.output<T> => {
  const r = schema.safeParse(merged);
  if (!r.success) throw new UsageError(r.error.issues[0]?.message ?? 'bad settings');
  return r.data;
};

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** The SNS target; undefined when no topic is set. The region defaults to AWS_REGION, then the topic's. */
const snsTarget = (s: { snsTopicArn?: string; snsEndpoint?: string; snsRegion?: string }): SnsTarget | undefined => {
  const { snsTopicArn: topicArn, snsEndpoint: endpoint } = s;
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
  return { topicArn, region: s.snsRegion ?? arn[1] ?? 'us-east-1', ...(endpoint ? { endpoint } : {}) };
};

const stateFileOf = (stateFile: string | undefined, host: string): string =>
  stateFile ? resolve(stateFile) : defaultStateFile(host);

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
  logFormat: LogFormat;
}

const AGENT = SETTINGS.omit({ instance: true, vcpus: true, memoryMb: true, diskGb: true });

/** Merges flags over `QM_*` env and checks them; throws UsageError naming the bad setting. */
export const resolveConfig = (flags: Flags, env: NodeJS.ProcessEnv): AgentConfig => {
  const s = check(AGENT, merge(AGENT.shape, flags, env));
  const sns = snsTarget(s);
  return {
    ...(s.apiUrl ? { apiUrl: s.apiUrl } : {}),
    ...(s.token ? { token: s.token } : {}),
    ...(s.tokenFile ? { tokenFile: resolve(s.tokenFile) } : {}),
    intervalMs: s.interval,
    instancesPath: s.instancesPath,
    ...(s.availabilityZone ? { availabilityZone: s.availabilityZone } : {}),
    once: s.once,
    print: s.print,
    host: s.host,
    stateFile: stateFileOf(s.stateFile, s.host),
    libvirtUri: s.libvirtUri,
    ...(sns ? { sns } : {}),
    pollMs: s.pollInterval,
    logFormat: s.logFormat,
  };
};

/** What `qm-agent notify` publishes, and where. */
export interface NotifyConfig {
  host: string;
  stateFile: string;
  sns: SnsTarget;
  eventType: string;
  payload: Record<string, unknown>;
  logFormat: LogFormat;
}

const NOTIFY = SETTINGS.pick({
  host: true,
  stateFile: true,
  snsTopicArn: true,
  snsEndpoint: true,
  snsRegion: true,
  logFormat: true,
  instance: true,
  vcpus: true,
  memoryMb: true,
  diskGb: true,
});

/** Checks `notify`'s flags over env; the notification must be one the notify function accepts. */
export const resolveNotifyConfig = (eventType: string, flags: Flags, env: NodeJS.ProcessEnv): NotifyConfig => {
  const s = check(NOTIFY, merge(NOTIFY.shape, flags, env));
  const sns = snsTarget(s);
  if (!sns) throw new UsageError('--sns-topic-arn (or QM_SNS_TOPIC_ARN) is required');
  if (!s.instance) throw new UsageError('--instance <uuid> is required');
  if (!UUID_PATTERN.test(s.instance)) throw new UsageError(`--instance: '${s.instance}' is not a uuid`);
  const type = eventType.trim();
  const payload: Record<string, unknown> = {
    instance_id: s.instance.toLowerCase(),
    ...(s.vcpus === undefined ? {} : { vcpus: s.vcpus }),
    ...(s.memoryMb === undefined ? {} : { memory_mb: s.memoryMb }),
    ...(s.diskGb === undefined ? {} : { disk_gb: s.diskGb }),
    host: s.host,
  };
  if (/\.create\.end$/.test(type) && !['vcpus', 'memory_mb', 'disk_gb'].every((k) => k in payload)) {
    throw new UsageError(`${type} needs --vcpus, --memory-mb and --disk-gb`);
  }
  // The notify function's own parser: what it would dead-letter is a usage error here.
  try {
    parseNotification(JSON.stringify(notification(s.host, type, payload, new Date(), randomUUID)));
  } catch (e) {
    if (e instanceof BadNotification) throw new UsageError(`${eventType}: ${e.message}`);
    throw e;
  }
  return {
    host: s.host,
    stateFile: stateFileOf(s.stateFile, s.host),
    sns,
    eventType: type,
    payload,
    logFormat: s.logFormat,
  };
};
