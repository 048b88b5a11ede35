import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

let resources: Record<string, Resource> = {};

const statementsOf = (role: Resource): Statement[] =>
  (role.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap(
    (p) => p.PolicyDocument.Statement,
  );
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('the packaged CloudFormation template', () => {
  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), 'qm-package-'));
    await promisify(execFile)(
      resolve('node_modules/.bin/serverless'),
      ['package', '--stage', 'prod', '--region', 'eu-west-1', '--package', out],
      { env: { ...process.env, QM_BUILD_DIR: '.esbuild-package', SLS_TELEMETRY_DISABLED: '1' } },
    );
    resources = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')).Resources;
  }, 120_000);

  it('grants no wildcard DynamoDB action and no wildcard resource', () => {
    const roles = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThanOrEqual(3);
    for (const role of roles) {
      for (const s of statementsOf(role)) {
        for (const a of actions(s)) expect(a).not.toMatch(/^dynamodb:\*|^\*$|:\*$/);
        expect(JSON.stringify(s.Resource)).not.toBe('"*"');
        expect(Array.isArray(s.Resource) ? s.Resource : [s.Resource]).not.toContain('*');
      }
    }
  });

  it('gives each function its own role, with only the DynamoDB actions it calls', () => {
    const fns = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(fns).toHaveLength(3);
    const roleNames = fns.map((f) => (f.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);
    expect(new Set(roleNames).size).toBe(3);
    const dynamo = (name: string) =>
      statementsOf(resources[name] as Resource)
        .flatMap(actions)
        .filter((a) => a.startsWith('dynamodb:'))
        .sort();
    expect(dynamo('ReportRole')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ]);
    expect(dynamo('ScheduleRole')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ]);
    expect(dynamo('NotifyRole')).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('retries a notify invocation that failed twice, for an hour at most, then keeps it in the dead-letter queue; idempotency records expire by TTL', () => {
    const config = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::EventInvokeConfig') as Resource;
    expect(config.Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['NotifyDeadLetterQueue', 'Arn'] } } },
    });
    expect((resources.EventsTable as Resource).Properties).toMatchObject({
      TableName: 'quartermaster-prod-events',
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
  });

  it('has the nodes table on demand with point-in-time recovery, named from service and stage', () => {
    const table = resources.NodesTable as Resource;
    expect(table.Properties).toMatchObject({
      TableName: 'quartermaster-prod-nodes',
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('has the topic, its dead-letter queue, and the notify subscription with a redrive policy', () => {
    const types = Object.values(resources).map((r) => r.Type);
    expect(types).toContain('AWS::SNS::Topic');
    expect(types).toContain('AWS::SQS::Queue');
    const sub = Object.values(resources).find((r) => r.Type === 'AWS::SNS::Subscription') as Resource;
    expect(sub.Properties.Protocol).toBe('lambda');
    expect(sub.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['NotifyDeadLetterQueue', 'Arn'] },
    });
    const methods = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Method')
      .map((r) => r.Properties.HttpMethod);
    expect(methods.sort()).toEqual(['ANY', 'ANY', 'DELETE', 'GET', 'GET', 'GET', 'GET', 'PATCH', 'POST', 'PUT']);
    const paths = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Resource')
      .map((r) => r.Properties.PathPart);
    expect(paths).toContain('openapi.json');
  });

  it('runs every function on a Lambda runtime that is not deprecated, with esbuild targeting it', () => {
    // AWS Lambda runtimes page: the date each Node.js runtime is deprecated (creating functions is blocked after).
    const deprecation: Record<string, string> = {
      'nodejs16.x': '2024-06-12',
      'nodejs18.x': '2025-09-01',
      'nodejs20.x': '2026-04-30',
      'nodejs22.x': '2027-04-30',
      'nodejs24.x': '2028-04-30',
    };
    const fns = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThanOrEqual(3);
    const config = readFileSync('serverless.yml', 'utf8');
    for (const f of fns) {
      const runtime = String(f.Properties.Runtime);
      const until = deprecation[runtime];
      expect(until, `${runtime} is not a Node.js runtime this test knows`).toBeDefined();
      expect(Date.now(), `${runtime} was deprecated on ${until}`).toBeLessThan(Date.parse(until as string));
      // serverless-esbuild's target must be the runtime's Node version (nodejs24.x -> node24).
      expect(config).toMatch(new RegExp(`\\n\\s+target: node${runtime.replace(/^nodejs(\d+)\.x$/, '$1')}\\n`));
    }
  });

  it('keeps the secret out of the template: only the SSM parameter name is there', () => {
    const fns = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    for (const f of fns) {
      const vars = (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars).not.toHaveProperty('QM_SECRET');
      expect(vars).not.toHaveProperty('QM_DYNAMODB_ENDPOINT');
      expect(vars.QM_SECRET_PARAM).toBe('/quartermaster/prod/secret');
    }
  });
});
