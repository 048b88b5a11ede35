import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEV_SECRET } from '../../adapters/config';
import { operatorToken } from '../../core/auth';
import { startDynamoDbLocal } from './dynamodb-local';
import { type Gateway, startGateway } from './gateway';
import { writeLocalNotify } from './local-notify';
import { type LocalSqs, startLocalSqs } from './local-sqs';
import { createTablesFromServerlessYml } from './tables';

/** Ports and names of one local stack; every port from env so stacks can run side by side. */
export interface StackOptions {
  stage: string;
  httpPort: number;
  snsPort: number;
  dynamodbPort: number;
  sqsPort: number;
  lambdaPort: number;
  secret: string;
  /** The secret before a rotation: tokens it signed keep verifying (QM_SECRET_PREVIOUS). */
  previousSecret?: string;
  /** Where esbuild writes the bundles (one per stack, so two stacks do not fight over it). */
  buildDir: string;
  /** Extra env for the functions (e.g. a short service_down_time in tests). */
  env?: Record<string, string>;
  /**
   * Delays before notify's retries (Lambda's maximumRetryAttempts is their count): a failed
   * invocation is retried after each, then its record goes to the dead-letter queue. Default 1 s, 2 s.
   */
  retryDelaysMs?: number[];
  log?: (line: string) => void;
  /** Every chunk serverless-offline writes (stdout and stderr), as it comes. */
  output?: (chunk: string) => void;
}

export interface Stack {
  options: StackOptions;
  baseUrl: string;
  snsUrl: string;
  topicArn: string;
  dynamodbUrl: string;
  sqsUrl: string;
  dlqUrl: string;
  nodesTable: string;
  eventsTable: string;
  operatorToken: string;
  /** Environment a client (or the notify handler) needs to reach this stack. */
  env: Record<string, string>;
  /** Stops serverless-offline only (to test clients riding out an outage). */
  stopApi(): Promise<void>;
  /** Stops DynamoDB Local only (a store outage: the functions must answer 503, not 500). */
  stopDynamodb(): Promise<void>;
  /** Starts DynamoDB Local again after stopDynamodb(), with empty tables (it keeps nothing on disk). */
  startDynamodb(): Promise<void>;
  /** Starts serverless-offline again after stopApi(). */
  startApi(): Promise<void>;
  stop(): Promise<void>;
}

const SERVICE = 'quartermaster';
/** Where serverless-offline itself listens: behind the gateway on the stack's httpPort. */
const offlinePort = (httpPort: number) => httpPort + 5;
const REGION = 'us-east-1';
/** serverless-offline-sns's default account id. */
const SNS_ACCOUNT = '123456789012';

export const stackOptionsFromEnv = (env = process.env): StackOptions => {
  const num = (name: string, def: number) => Number(env[name] ?? def);
  const httpPort = num('QM_HTTP_PORT', 3000);
  return {
    stage: env.QM_STAGE ?? 'dev',
    httpPort,
    snsPort: num('QM_SNS_PORT', 4002),
    dynamodbPort: num('QM_DYNAMODB_PORT', 8000),
    sqsPort: num('QM_SQS_PORT', 9324),
    lambdaPort: num('QM_LAMBDA_PORT', httpPort + 2),
    secret: env.QM_SECRET || DEV_SECRET,
    ...(env.QM_SECRET_PREVIOUS ? { previousSecret: env.QM_SECRET_PREVIOUS } : {}),
    buildDir: env.QM_BUILD_DIR ?? (httpPort === 3000 ? '.esbuild' : `.esbuild-${httpPort}`),
    ...(env.QM_RETRY_DELAYS_MS ? { retryDelaysMs: env.QM_RETRY_DELAYS_MS.split(',').map(Number) } : {}),
  };
};

/** Stops a child and its process group by PID; waits for it to exit. */
export const stopChild = async (child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
  if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, 8000);
  await exited;
  clearTimeout(timer);
};

const waitForHttp = async (url: string, child: ChildProcess, log: () => string, timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serverless offline exited (${child.exitCode}):\n${log()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.status === 401 || r.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`serverless offline did not answer at ${url}:\n${log()}`);
};

/**
 * Starts DynamoDB Local (in memory), the tables from serverless.yml, a local
 * SQS for the dead-letter queue, and serverless-offline with
 * serverless-offline-sns wired to the notify function.
 */
export const startStack = async (o: StackOptions): Promise<Stack> => {
  const log = o.log ?? (() => {});
  const nodesTable = `${SERVICE}-${o.stage}-nodes`;
  const decisionsTable = `${SERVICE}-${o.stage}-decisions`;
  const eventsTable = `${SERVICE}-${o.stage}-events`;
  const dynamodbUrl = `http://127.0.0.1:${o.dynamodbPort}`;
  const children: ChildProcess[] = [];
  let sqs: LocalSqs | undefined;
  let api: ChildProcess | undefined;
  let gateway: Gateway | undefined;
  const stopAll = async () => {
    await gateway?.close();
    await stopChild(api);
    for (const c of children.reverse()) await stopChild(c);
    await sqs?.close();
  };
  let ddb: ChildProcess | undefined;
  const startDynamodb = async () => {
    ddb = await startDynamoDbLocal(o.dynamodbPort);
    children.push(ddb);
    log(`DynamoDB Local: ${dynamodbUrl} (pid ${ddb.pid})`);
    await createTablesFromServerlessYml(dynamodbUrl, {
      NodesTable: nodesTable,
      DecisionsTable: decisionsTable,
      EventsTable: eventsTable,
    });
  };
  try {
    await startDynamodb();
    sqs = await startLocalSqs(o.sqsPort);
    const dlqName = `${SERVICE}-${o.stage}-notify-dlq`;
    await fetch(sqs.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSQS.CreateQueue', 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ QueueName: dlqName }),
    });
    const dlqUrl = sqs.queueUrl(dlqName);
    const env: Record<string, string> = {
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: REGION,
      QM_STAGE: o.stage,
      QM_REGION: REGION,
      QM_NODES_TABLE: nodesTable,
      QM_DECISIONS_TABLE: decisionsTable,
      QM_EVENTS_TABLE: eventsTable,
      QM_DYNAMODB_ENDPOINT: dynamodbUrl,
      QM_SECRET: o.secret,
      ...(o.previousSecret ? { QM_SECRET_PREVIOUS: o.previousSecret } : {}),
      QM_SQS_ENDPOINT: sqs.url,
      QM_DLQ_URL: dlqUrl,
      // serverless-offline listens behind the local gateway (scripts/lib/gateway.ts), which owns httpPort.
      QM_HTTP_PORT: String(offlinePort(o.httpPort)),
      QM_LAMBDA_PORT: String(o.lambdaPort),
      QM_WEBSOCKET_PORT: String(o.httpPort + 1),
      QM_ALB_PORT: String(o.httpPort + 3),
      QM_SNS_PORT: String(o.snsPort),
      QM_BUILD_DIR: o.buildDir,
      ...(o.env ?? {}),
    };
    // serverless-offline-sns neither retries nor dead-letters: it loads this wrapper, which does (async-invoke.ts).
    const snsLocation = `.qm/sns-${o.httpPort}`;
    const localNotify = await writeLocalNotify({
      buildDir: o.buildDir,
      outDir: snsLocation,
      functionArn: `arn:aws:lambda:${REGION}:${SNS_ACCOUNT}:function:${SERVICE}-${o.stage}-notify:$LATEST`,
      retryDelaysMs: o.retryDelaysMs ?? [1000, 2000],
      concurrency: 16,
      sqsEndpoint: sqs.url,
      dlqUrl,
      region: REGION,
    });
    env.QM_SNS_LOCATION = snsLocation;
    const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(localNotify.preload).href}`.trim();
    const baseUrl = `http://127.0.0.1:${o.httpPort}/${o.stage}`;
    let apiLog = '';
    const startApi = async () => {
      mkdirSync(resolve('.qm'), { recursive: true });
      apiLog = '';
      api = spawn(resolve('node_modules/.bin/serverless'), ['offline', 'start', '--stage', o.stage], {
        env: {
          ...process.env,
          ...env,
          NODE_OPTIONS: nodeOptions,
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      // serverless-offline's own output, kept for a post-mortem: .qm/offline-<port>.log
      const logFile = resolve(`.qm/offline-${o.httpPort}.log`);
      const keep = (d: Buffer) => {
        apiLog = (apiLog + d.toString()).slice(-20_000);
        appendFileSync(logFile, d);
        o.output?.(d.toString());
      };
      api.stdout?.on('data', keep);
      api.stderr?.on('data', keep);
      gateway = await startGateway(o.httpPort, offlinePort(o.httpPort));
      await waitForHttp(`${baseUrl}/nodes`, api, () => apiLog);
      log(`serverless-offline: ${baseUrl} (pid ${api.pid})`);
    };
    await startApi();
    return {
      options: o,
      baseUrl,
      snsUrl: `http://127.0.0.1:${o.snsPort}`,
      topicArn: `arn:aws:sns:${REGION}:${SNS_ACCOUNT}:${SERVICE}-${o.stage}-notifications`,
      dynamodbUrl,
      sqsUrl: sqs.url,
      dlqUrl,
      nodesTable,
      eventsTable,
      // Minted at start with the operator default (12 h): it outlives a test run; `npx qm token operator` mints another.
      operatorToken: operatorToken(o.secret, { nowMs: Date.now() }),
      env,
      stopApi: async () => {
        await gateway?.close();
        gateway = undefined;
        await stopChild(api);
        api = undefined;
      },
      startApi,
      stopDynamodb: async () => {
        await stopChild(ddb);
        ddb = undefined;
      },
      startDynamodb,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
};
