import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { GetParameterError } from '@aws-lambda-powertools/parameters/errors';
import { GetParameterCommand, SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import { ConfigError } from './config';

/**
 * The one place that reads SSM parameters: the token keyring (`secret.ts`) and
 * `npx qm token --ssm-parameter` (`scripts/qm.ts`) both come here.
 *
 * It is a Powertools Parameters provider ("bring your own provider": a `BaseProvider`
 * subclass), so reads are decrypted, cached for `maxAge` and share one SDK client. It
 * is not Powertools' `SSMProvider` because that answers the value alone, and the
 * keyring needs the version as well: the previous secret is `name:<version − 1>`.
 */

/** One parameter as read: its (decrypted) value and its version. */
export interface ParameterVersion {
  Value?: string;
  Version?: number;
}

/**
 * Reads one parameter (`name` or `name:<version>`). `fresh` skips the cache: the
 * current version of a parameter that rotates; a numbered version never changes, so
 * it may come from the cache. Rejects with the SDK's error (its `name`, e.g.
 * `ParameterVersionNotFound`, says why).
 */
export type ParameterRead = (name: string, o?: { fresh?: boolean }) => Promise<ParameterVersion | undefined>;

/** GetParameter with decryption, as a Powertools provider whose values are `{Value, Version}`. */
class VersionedParameters extends BaseProvider {
  constructor(clientConfig: SSMClientConfig) {
    super({ awsSdkV3ClientPrototype: SSMClient as never, clientConfig });
  }

  protected async _get(name: string): Promise<ParameterVersion | undefined> {
    const out = await (this.client as SSMClient).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    return out.Parameter && { Value: out.Parameter.Value, Version: out.Parameter.Version };
  }

  protected _getMultiple(): Promise<undefined> {
    return Promise.reject(new ConfigError('reading SSM parameters by path is not supported'));
  }
}

/** Where to read and how long a read may be reused. */
export interface ParameterOptions {
  /** The SSM client's settings (region; an endpoint and credentials in tests). */
  client?: SSMClientConfig;
  /** How long a read is reused, in seconds (Powertools' `maxAge`; default 300). */
  maxAgeS?: number;
}

/** A `ParameterRead` over SSM (decrypted, cached `maxAgeS`). */
export const ssmParameters = (o: ParameterOptions = {}): ParameterRead => {
  const provider = new VersionedParameters(o.client ?? {});
  const maxAge = o.maxAgeS ?? 300;
  return async (name, { fresh = false } = {}) => {
    try {
      return (await provider.get(name, { maxAge, forceFetch: fresh })) as ParameterVersion | undefined;
    } catch (e) {
      // Powertools wraps the SDK's error; callers tell the causes apart by the SDK's name.
      throw e instanceof GetParameterError && e.cause instanceof Error ? e.cause : e;
    }
  };
};

/** The current version of a SecureString parameter, never from the cache; an empty one is a ConfigError. */
export const readCurrent = async (read: ParameterRead, name: string): Promise<{ Value: string; Version?: number }> => {
  const p = await read(name, { fresh: true });
  if (!p?.Value) throw new ConfigError(`SSM parameter ${name} is empty`);
  return { Value: p.Value, Version: p.Version };
};
