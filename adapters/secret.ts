import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type Config, ConfigError } from './config';

let cached: Promise<string> | undefined;

/**
 * The token secret: QM_SECRET when given (local stack), else the SecureString
 * SSM parameter QM_SECRET_PARAM, read once per container.
 */
export const loadSecret = (config: Config): Promise<string> => {
  cached ??= (async () => {
    if (config.secret) return config.secret;
    const name = config.secretParam;
    if (!name) throw new ConfigError('no secret configured');
    const ssm = new SSMClient({ region: config.region });
    const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = out.Parameter?.Value;
    if (!value) throw new ConfigError(`SSM parameter ${name} is empty`);
    return value;
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
};
