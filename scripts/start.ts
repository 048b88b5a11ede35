/**
 * `npm start`: the whole local stack on this machine, plus one agent that
 * reports it. Ctrl-C stops every process it started, by PID. What to use (URL,
 * token, queue) goes to stdout; progress goes to stderr as the agent's log lines.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createLog } from '../agent/log';
import { nodeToken } from '../core/auth';
import { stackOptionsFromEnv, startStack, stopChild } from './lib/stack';

const started = Date.now();
const log = createLog();
const options = { ...stackOptionsFromEnv(), log: (l: string) => log('stack', { note: l }) };
const stack = await startStack(options);
const host = process.env.QM_HOST ?? hostname();

// The contract's default is http://localhost:3000/dev; the API listens on loopback (127.0.0.1).
const publicUrl = stack.baseUrl.replace('127.0.0.1', 'localhost');
console.log(`Quartermaster API: ${publicUrl}`);
console.log(`SNS endpoint: ${stack.snsUrl} topic: ${stack.topicArn}`);
console.log(`Operator token: ${stack.operatorToken}`);
// The fragment never reaches a server; the page keeps the token in the tab's sessionStorage.
console.log(`Dashboard: ${publicUrl}/dashboard#token=${stack.operatorToken}`);
console.log(`Dead-letter queue: ${stack.dlqUrl}`);
console.log(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Try:`);
console.log(`  curl -s -H "Authorization: Bearer ${stack.operatorToken}" ${publicUrl}/nodes`);

const agent: ChildProcess = spawn(
  process.execPath,
  [
    resolve('bin/qm-agent.mjs'),
    '--api-url',
    stack.baseUrl,
    '--token',
    nodeToken(options.secret, host, { nowMs: Date.now() }),
    '--host',
    host,
    '--interval',
    process.env.QM_INTERVAL ?? '60',
    '--state-file',
    resolve(`.qm/agent-${host}-${options.httpPort}.json`),
    // The agent is this host's compute manager too: domains that appear or vanish go to the local SNS topic.
    '--sns-topic-arn',
    stack.topicArn,
    '--sns-endpoint',
    stack.snsUrl,
  ],
  { stdio: ['ignore', 'inherit', 'inherit'], detached: true },
);
log('agent', { host, pid: agent.pid });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  log('stop', { agent_pid: agent.pid });
  await stopChild(agent);
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
