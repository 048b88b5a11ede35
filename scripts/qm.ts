/**
 * `npx qm <command>` (CONTRACT.md "Operator CLI"): the fleet (`nodes`, `node`, `disable`,
 * `enable`), scheduling (`schedule`, `why`) — in scripts/cli/, one file per group — and
 * the commands below. Exit codes: 0 done, 1 the API refused, 2 usage error, 3 the API
 * could not be reached (scripts/cli/api.ts).
 *
 * `npx qm token node <host> [--ttl D]` / `npx qm token operator [--ttl D]`: print a
 * bearer token that expires after D (default 90d / 12h). The secret: QM_SECRET,
 * else the SSM parameter given by --ssm-parameter (a deployed stage), else the
 * local stack's documented development secret.
 * `npx qm token revoke <host>`: PATCH /nodes/<host> {"revoke_tokens": true}.
 *
 * `npx qm dlq list`: the messages the notify function parked in its
 * dead-letter queue, read without consuming them.
 */
import { Command } from 'commander';
import { DEV_SECRET } from '../adapters/config';
import { readCurrent, ssmParameters } from '../adapters/parameters';
import { type DeadLetter, SqsDeadLetters } from '../adapters/sqs/dead-letters';
import { createLog } from '../agent/log';
import { DEFAULT_TTL_S, nodeToken, operatorToken, parseDuration } from '../core/auth';
import { HOST_PATTERN } from '../core/schema';
import { DEFAULT_TOKEN_TTL_S, EXIT } from './cli/api';
import { registerNodeCommands } from './cli/nodes';
import { registerScheduleCommand } from './cli/schedule';
import { registerWhyCommand } from './cli/why';

/** qm's log lines: the agent's style (agent/log.ts), text on stderr. */
const log = createLog();

const secretFrom = async (opts: { ssmParameter?: string; region?: string }): Promise<string> => {
  if (process.env.QM_SECRET) return process.env.QM_SECRET;
  if (opts.ssmParameter) {
    // The keyring's reader (adapters/parameters.ts): the same decryption, the same errors.
    const read = ssmParameters({ client: opts.region ? { region: opts.region } : {} });
    try {
      return (await readCurrent(read, opts.ssmParameter)).Value;
    } catch (e) {
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      program.error(`qm: cannot read SSM parameter ${opts.ssmParameter}: ${why}`, { exitCode: 1 });
    }
  }
  log('secret', { source: 'development', warning: 'QM_SECRET is not set; using the local stack development secret' });
  return DEV_SECRET;
};

const program: Command = new Command('qm').description('Quartermaster operator tools');
// Commander's own complaints (unknown option, missing argument, bad choice, no command) are usage errors: exit 2.
program.exitOverride((e) =>
  process.exit(e.exitCode === 0 ? 0 : e.code === 'commander.error' ? e.exitCode : EXIT.usage),
);
/** The default token of the API commands: an operator token for just this one command. */
const mintOperator = async () => operatorToken(await secretFrom({}), { nowMs: Date.now(), ttlS: DEFAULT_TOKEN_TTL_S });
registerNodeCommands(program, mintOperator);
registerScheduleCommand(program, mintOperator);
registerWhyCommand(program, mintOperator);
const token = program
  .command('token')
  .description('print a bearer token')
  .option('--ssm-parameter <name>', 'read the secret from this SSM SecureString (e.g. /quartermaster/prod/secret)')
  .option('--region <region>', 'AWS region of the SSM parameter');
const ttlOf = (text: string | undefined, kind: keyof typeof DEFAULT_TTL_S): number => {
  if (text === undefined) return DEFAULT_TTL_S[kind];
  try {
    return parseDuration(text);
  } catch (e) {
    program.error(`qm: --ttl: ${(e as Error).message.replace(/^ttl: /, '')}`, { exitCode: 2 });
  }
};
token
  .command('node <host>')
  .description("a node token: authorizes only PUT /nodes/<host> (the agent's report)")
  .option('--ttl <duration>', 'lifetime: 30s, 15m, 12h, 90d … (default 90d, at most 366d)')
  .action(async (host: string, opts: { ttl?: string }) => {
    if (!HOST_PATTERN.test(host)) program.error(`qm: ${host} is not a hostname`, { exitCode: 2 });
    const ttlS = ttlOf(opts.ttl, 'node');
    console.log(nodeToken(await secretFrom(token.opts()), host, { nowMs: Date.now(), ttlS }));
  });
token
  .command('operator')
  .description('an operator token: authorizes every route')
  .option('--ttl <duration>', 'lifetime: 30s, 15m, 12h, 90d … (default 12h, at most 366d)')
  .action(async (opts: { ttl?: string }) => {
    const ttlS = ttlOf(opts.ttl, 'operator');
    console.log(operatorToken(await secretFrom(token.opts()), { nowMs: Date.now(), ttlS }));
  });
token
  .command('revoke <host>')
  .description('revoke every node token of <host> issued before now (PATCH /nodes/<host> {"revoke_tokens": true})')
  .option('--api-url <url>', 'the API (default: $QM_API_URL, else http://localhost:3000/dev)')
  .option('--token <token>', 'an operator token (default: $QM_TOKEN, else one from the secret, as `qm token operator`)')
  .option('--json', "print the API's JSON (the node)")
  .action(async (host: string, opts: { apiUrl?: string; token?: string; json?: boolean }) => {
    if (!HOST_PATTERN.test(host)) program.error(`qm: ${host} is not a hostname`, { exitCode: 2 });
    const apiUrl = (opts.apiUrl || process.env.QM_API_URL || 'http://localhost:3000/dev').replace(/\/+$/, '');
    // A default token lives just long enough for this one call.
    const bearerToken =
      opts.token ||
      process.env.QM_TOKEN ||
      operatorToken(await secretFrom(token.opts()), { nowMs: Date.now(), ttlS: 300 });
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${apiUrl}/nodes/${encodeURIComponent(host)}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${bearerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ revoke_tokens: true }),
        signal: AbortSignal.timeout(30_000),
      });
      text = await res.text();
    } catch (e) {
      program.error(`qm: cannot reach ${apiUrl}: ${(e as Error).message}`, { exitCode: 3 });
    }
    let body: { tokens_revoked_at?: string; error?: { code?: string; message?: string } } = {};
    try {
      body = JSON.parse(text);
    } catch {
      body = {};
    }
    if (opts.json) console.log(JSON.stringify(body, null, 2));
    if (!res.ok) {
      const why = body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`;
      program.error(`qm: the API refused: ${why}`, { exitCode: res.status >= 500 ? 3 : 1 });
    }
    if (!opts.json) {
      console.log(
        `revoked: node tokens for ${host} issued before ${body.tokens_revoked_at} answer 401 TokenRevoked; ` +
          `mint a new one with: npx qm token node ${host}`,
      );
    }
  });

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** The region in a queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/name. */
const regionOf = (url: URL): string | undefined => /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(url.hostname)?.[1];
const oneLine = (s: string, max = 120) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const describeLetter = (m: DeadLetter) =>
  [
    m.sent_at ?? '-',
    m.reason || '-',
    ...(m.attributes.message_id ? [`message_id=${m.attributes.message_id}`] : []),
    oneLine(m.body),
  ].join('  ');

const dlq = program.command('dlq').description("the notify function's dead-letter queue");
dlq
  .command('list')
  .description('list the parked messages, oldest first, without consuming them')
  .option('--queue-url <url>', 'the dead-letter queue (default: $QM_DLQ_URL)')
  .option('--endpoint <url>', 'the SQS endpoint (default: $QM_SQS_ENDPOINT, else the origin of a local queue URL)')
  .option('--region <region>', "AWS region (default: the queue URL's, else $AWS_REGION, else us-east-1)")
  .option('--json', 'print a JSON array of {id, reason, attributes, body, sent_at}')
  .action(async (opts: { queueUrl?: string; endpoint?: string; region?: string; json?: boolean }) => {
    const queueUrl = opts.queueUrl || process.env.QM_DLQ_URL;
    if (!queueUrl) {
      program.error('qm: no dead-letter queue: pass --queue-url URL or set QM_DLQ_URL', { exitCode: 2 });
    }
    let url: URL;
    try {
      url = new URL(queueUrl);
    } catch {
      program.error(`qm: ${queueUrl} is not a queue URL`, { exitCode: 2 });
    }
    const endpoint =
      opts.endpoint || process.env.QM_SQS_ENDPOINT || (LOCAL_HOSTS.has(url.hostname) ? url.origin : undefined);
    const region =
      opts.region || regionOf(url) || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
    let letters: DeadLetter[];
    try {
      letters = await new SqsDeadLetters(region, queueUrl, endpoint).list();
    } catch (e) {
      program.error(`qm: cannot read ${queueUrl}: ${(e as Error).message || (e as Error).name}`, { exitCode: 1 });
    }
    if (letters.length === 0) process.stderr.write('qm: dead-letter queue is empty\n');
    if (opts.json) console.log(JSON.stringify(letters, null, 2));
    else for (const m of letters) console.log(describeLetter(m));
  });

(await import('./cli/simulate')).registerSimulate(program);
await program.parseAsync();
