import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Keyring } from '../core/auth';
import { type Config, ConfigError } from './config';

/** How long a container trusts the keyring it read from SSM before reading it again. */
export const KEYRING_REFRESH_MS = 5 * 60_000;
/** After a failed refresh, the next try waits this long (the old keyring keeps serving). */
const RETRY_MS = 30_000;

/** What GetParameter answers, reduced to what the keyring needs. */
export type ParameterRead = (name: string) => Promise<{ Value?: string; Version?: number } | undefined>;

/**
 * The current and previous secret from one SSM parameter: `name` is the current
 * version, `name:<version − 1>` the previous one (GetParameter takes a version
 * selector, so the IAM grant stays `ssm:GetParameter` on that one parameter).
 * A first version, or a previous one that no longer exists, gives no previous secret.
 */
export const readKeyring = async (read: ParameterRead, name: string): Promise<Keyring> => {
  const cur = await read(name);
  if (!cur?.Value) throw new ConfigError(`SSM parameter ${name} is empty`);
  const version = Number(cur.Version);
  if (!(Number.isInteger(version) && version > 1)) return { current: cur.Value };
  try {
    const prev = await read(`${name}:${version - 1}`);
    return prev?.Value && prev.Value !== cur.Value
      ? { current: cur.Value, previous: prev.Value }
      : { current: cur.Value };
  } catch (e) {
    if ((e as Error).name === 'ParameterVersionNotFound') return { current: cur.Value };
    throw e;
  }
};

/**
 * A keyring source that rereads every `refreshMs`, serving the one it has while
 * a reread is under way (a request never waits on SSM after the first read), so
 * a rotated secret reaches every warm container within `refreshMs`.
 */
export const refreshingKeyring = async (
  read: () => Promise<Keyring>,
  now: () => number = Date.now,
  refreshMs = KEYRING_REFRESH_MS,
  onError: (e: unknown) => void = () => undefined,
): Promise<() => Keyring> => {
  let ring = await read();
  let dueAt = now() + refreshMs;
  let reading = false;
  return () => {
    if (!reading && now() >= dueAt) {
      reading = true;
      read()
        .then(
          (r) => {
            ring = r;
            dueAt = now() + refreshMs;
          },
          (e: unknown) => {
            onError(e);
            dueAt = now() + RETRY_MS;
          },
        )
        .finally(() => {
          reading = false;
        });
    }
    return ring;
  };
};

/**
 * The token keyring: QM_SECRET (and QM_SECRET_PREVIOUS) when given (local stack),
 * else the SecureString SSM parameter QM_SECRET_PARAM and its previous version,
 * read at cold start (which fails without it) and again every KEYRING_REFRESH_MS.
 */
export const loadKeyring = async (config: Config, onError?: (e: unknown) => void): Promise<() => Keyring> => {
  if (config.secret) {
    const ring: Keyring = config.previousSecret
      ? { current: config.secret, previous: config.previousSecret }
      : { current: config.secret };
    return () => ring;
  }
  const name = config.secretParam;
  if (!name) throw new ConfigError('no secret configured');
  const ssm = new SSMClient({ region: config.region });
  const read: ParameterRead = async (n) =>
    (await ssm.send(new GetParameterCommand({ Name: n, WithDecryption: true }))).Parameter;
  return refreshingKeyring(() => readKeyring(read, name), Date.now, KEYRING_REFRESH_MS, onError);
};
