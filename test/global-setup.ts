import type { TestProject } from 'vitest/node';
import { type Stack, startStack } from '../scripts/lib/stack';

/** What tests need to reach the stack this run started. */
export type StackInfo = Pick<
  Stack,
  | 'baseUrl'
  | 'snsUrl'
  | 'topicArn'
  | 'dynamodbUrl'
  | 'sqsUrl'
  | 'dlqUrl'
  | 'nodesTable'
  | 'eventsTable'
  | 'operatorToken'
> & { secret: string; previousSecret: string };

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

/**
 * Ports a test stack listens on: `base` clear of a developer's `npm start`
 * (3000/4002/8000/9324), moved by `QM_TEST_PORT_OFFSET` so that two checkouts
 * can run their tests side by side. A stack takes base..base+12 (the gateway,
 * serverless-offline behind it at +5, lambda at +12); the test stacks' bases are
 * 100 apart (3300, 3400, 3600, 3800; benches 3500, 3700), so offsets are
 * multiples of 10 below 90.
 */
export const testPorts = (base: { httpPort: number; snsPort: number; dynamodbPort: number; sqsPort: number }) => {
  const k = Number(process.env.QM_TEST_PORT_OFFSET ?? 0);
  return {
    httpPort: base.httpPort + k,
    snsPort: base.snsPort + k,
    dynamodbPort: base.dynamodbPort + k,
    sqsPort: base.sqsPort + k,
    // Not httpPort + 2: with offsets 1000 apart that is another checkout's SNS port (3302 + 1000 = 4302).
    lambdaPort: base.httpPort + 12 + k,
  };
};
export const TEST_PORTS = testPorts({ httpPort: 3300, snsPort: 4302, dynamodbPort: 8300, sqsPort: 9624 });
export const TEST_SECRET = 'quartermaster-test-secret';
/** The test stack runs as if just rotated: tokens of this secret keep working (QM_SECRET_PREVIOUS). */
export const TEST_PREVIOUS_SECRET = 'quartermaster-test-previous-secret';

let stack: Stack | undefined;

export default async function setup(project: TestProject) {
  const t0 = Date.now();
  stack = await startStack({
    stage: 'test',
    ...TEST_PORTS,
    secret: TEST_SECRET,
    previousSecret: TEST_PREVIOUS_SECRET,
    buildDir: '.esbuild-test',
  });
  console.log(`local stack up in ${Date.now() - t0} ms at ${stack.baseUrl}`);
  project.provide('stack', {
    baseUrl: stack.baseUrl,
    snsUrl: stack.snsUrl,
    topicArn: stack.topicArn,
    dynamodbUrl: stack.dynamodbUrl,
    sqsUrl: stack.sqsUrl,
    dlqUrl: stack.dlqUrl,
    nodesTable: stack.nodesTable,
    eventsTable: stack.eventsTable,
    operatorToken: stack.operatorToken,
    secret: TEST_SECRET,
    previousSecret: TEST_PREVIOUS_SECRET,
  });
  return async () => {
    await stack?.stop();
  };
}
