/**
 * `npx qm token node <host>` / `npx qm token operator`: print a bearer token.
 * The secret: QM_SECRET, else the SSM parameter given by --ssm-parameter (a
 * deployed stage), else the local stack's documented development secret.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Command } from 'commander';
import { DEV_SECRET } from '../adapters/config';
import { nodeToken, operatorToken } from '../core/auth';
import { HOST_PATTERN } from '../core/schema';

const secretFrom = async (opts: { ssmParameter?: string; region?: string }): Promise<string> => {
  if (process.env.QM_SECRET) return process.env.QM_SECRET;
  if (opts.ssmParameter) {
    const ssm = new SSMClient(opts.region ? { region: opts.region } : {});
    const out = await ssm.send(new GetParameterCommand({ Name: opts.ssmParameter, WithDecryption: true }));
    if (!out.Parameter?.Value) throw new Error(`SSM parameter ${opts.ssmParameter} is empty`);
    return out.Parameter.Value;
  }
  process.stderr.write('qm: QM_SECRET is not set; using the local stack development secret\n');
  return DEV_SECRET;
};

const program = new Command('qm').description('Quartermaster operator tools');
const token = program
  .command('token')
  .description('print a bearer token')
  .option('--ssm-parameter <name>', 'read the secret from this SSM SecureString (e.g. /quartermaster/prod/secret)')
  .option('--region <region>', 'AWS region of the SSM parameter');
token
  .command('node <host>')
  .description("a node token: authorizes only PUT /nodes/<host> (the agent's report)")
  .action(async (host: string) => {
    if (!HOST_PATTERN.test(host)) program.error(`qm: ${host} is not a hostname`, { exitCode: 2 });
    console.log(nodeToken(await secretFrom(token.opts()), host));
  });
token
  .command('operator')
  .description('the operator token: authorizes every route')
  .action(async () => {
    console.log(operatorToken(await secretFrom(token.opts())));
  });
await program.parseAsync();
