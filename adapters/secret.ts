import type { Keyring } from '../core/auth';
import { type Config, ConfigError } from './config';
import { type ParameterRead, readCurrent, ssmParameters } from './parameters';

/** How long a container trusts the keyring it read from SSM before reading it again. */
export const KEYRING_REFRESH_MS = 5 * 60_000;
/** After a failed refresh, the next try waits this long (the old keyring keeps serving). */
const RETRY_MS = 30_000;

/**
 * The current and previous secret from one SSM parameter: `name` is the current
 * version, `name:<version − 1>` the previous one (GetParameter takes a version
 * selector, so the IAM grant stays `ssm:GetParameter` on that one parameter).
 * A first version, or a previous one that no longer exists, gives no previous secret.
 */
export const readKeyring = async (read: ParameterRead, name: string): Promise<Keyring> => {
  // The current version always from SSM (it rotates); a numbered one never changes, so it may be cached.
  const cur = await readCurrent(read, name);
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
  const read = ssmParameters({ client: { region: config.region }, maxAgeS: KEYRING_REFRESH_MS / 1000 });
  return refreshingKeyring(() => readKeyring(read, name), Date.now, KEYRING_REFRESH_MS, onError);
};
