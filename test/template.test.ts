import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

let resources: Record<string, Resource> = {};
let conditions: Record<string, unknown> = {};

/** `serverless package` of this service, with `args`; the CloudFormation template it writes. */
const packageTemplate = async (args: string[] = []) => {
  const out = mkdtempSync(join(tmpdir(), 'qm-package-'));
  await promisify(execFile)(
    resolve('node_modules/.bin/serverless'),
    ['package', '--stage', 'prod', '--region', 'eu-west-1', '--package', out, ...args],
    { env: { ...process.env, QM_BUILD_DIR: '.esbuild-package', SLS_TELEMETRY_DISABLED: '1' } },
  );
  return JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as {
    Resources: Record<string, Resource>;
    Conditions?: Record<string, unknown>;
  };
};

/** Evaluates the condition functions the template uses (Fn::Not, Fn::Equals) on literal values. */
const holds = (c: unknown): boolean => {
  const f = c as Record<string, unknown[]>;
  if (f['Fn::Not']) return !holds(f['Fn::Not'][0]);
  if (f['Fn::Equals']) return JSON.stringify(f['Fn::Equals'][0]) === JSON.stringify(f['Fn::Equals'][1]);
  throw new Error(`a condition this test cannot evaluate: ${JSON.stringify(c)}`);
};

const statementsOf = (role: Resource): Statement[] =>
  (role.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap(
    (p) => p.PolicyDocument.Statement,
  );
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('the packaged CloudFormation template', () => {
  beforeAll(async () => {
    const template = await packageTemplate();
    resources = template.Resources;
    conditions = template.Conditions ?? {};
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
      // The nodes whose change-feed entry is newer than the copy; the decisions' pointers.
      'dynamodb:BatchGetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      // The fleet snapshot's chunks, head and lease (only `#snapshot*` keys: checked below).
      'dynamodb:DeleteItem',
      // The cold scan sizes its segments to the table.
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      // GET /decisions (qm trace export) scans the decisions table.
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ]);
    // The schedule function writes and deletes on the nodes table only under the snapshot's keys.
    const snapshotWrites = statementsOf(resources.ScheduleRole as Resource).filter((st) =>
      actions(st).includes('dynamodb:DeleteItem'),
    );
    expect(snapshotWrites).toHaveLength(1);
    expect(JSON.stringify(snapshotWrites[0])).toContain('"dynamodb:LeadingKeys":["#snapshot*"]');
    expect(dynamo('NotifyRole')).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('has the sharded change index (keys + ver) and lets only the schedule function query it', () => {
    const table = (resources.NodesTable as Resource).Properties;
    expect(table.AttributeDefinitions).toEqual([
      { AttributeName: 'host', AttributeType: 'S' },
      { AttributeName: 'change_shard', AttributeType: 'S' },
      { AttributeName: 'changed_at', AttributeType: 'N' },
    ]);
    expect(table.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'by_change_sharded',
        KeySchema: [
          { AttributeName: 'change_shard', KeyType: 'HASH' },
          { AttributeName: 'changed_at', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['ver'] },
      },
    ]);
    const queries = (role: string) =>
      statementsOf(resources[role] as Resource)
        .filter((s) => actions(s).includes('dynamodb:Query'))
        .map((s) => s.Resource);
    expect(queries('ScheduleRole')).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['NodesTable', 'Arn'] }, '/index/by_change_sharded']] },
    ]);
    expect(queries('ReportRole')).toEqual([]);
    expect(queries('NotifyRole')).toEqual([]);
    const env = (resources.ScheduleLambdaFunction as Resource).Properties.Environment as {
      Variables: Record<string, unknown>;
    };
    expect(env.Variables).toMatchObject({
      QM_CHANGE_SHARDS: '16',
      QM_FEED_LOOKBACK_MS: '10000',
      QM_FEED_NEAR_MS: '1000',
    });
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
    const sub = Object.values(resources).find(
      (r) => r.Type === 'AWS::SNS::Subscription' && r.Properties.Protocol === 'lambda',
    ) as Resource;
    expect(sub.Properties.Protocol).toBe('lambda');
    expect(sub.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['NotifyDeadLetterQueue', 'Arn'] },
    });
    const methods = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Method')
      .map((r) => r.Properties.HttpMethod);
    // GET: /nodes, /nodes/{host}, /dashboard, /openapi.json, /decisions (qm trace export), /decisions/{id}.
    expect(methods.sort()).toEqual([
      'ANY',
      'ANY',
      'DELETE',
      'GET',
      'GET',
      'GET',
      'GET',
      'GET',
      'GET',
      'PATCH',
      'POST',
      'PUT',
    ]);
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

  describe('alarms for whoever is on call', () => {
    const alarm = (name: string) => {
      const a = resources[name] as Resource;
      expect(a?.Type, `${name} is an alarm`).toBe('AWS::CloudWatch::Alarm');
      return a.Properties;
    };
    const ALARMS = [
      'NotifyDeadLetterAlarm',
      'ApiServerErrorsAlarm',
      'ReportErrorsAlarm',
      'ScheduleErrorsAlarm',
      'NotifyErrorsAlarm',
      'NoValidHostRateAlarm',
    ];

    it('sends every alarm, and its recovery, to the alarm topic', () => {
      expect((resources.AlarmTopic as Resource).Type).toBe('AWS::SNS::Topic');
      const all = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
      expect(all.map(([k]) => k).sort()).toEqual([...ALARMS].sort());
      for (const [, a] of all) {
        expect(a.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
        expect(a.Properties.OKActions).toEqual([{ Ref: 'AlarmTopic' }]);
        // A quiet hour (no data) is not an incident.
        expect(a.Properties.TreatMissingData).toBe('notBreaching');
      }
    });

    it('fires when the dead-letter queue holds a message', () => {
      expect(alarm('NotifyDeadLetterAlarm')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['NotifyDeadLetterQueue', 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('fires on any 5xx the API answers and on any failed invocation of each function', () => {
      const apiName = (resources.ApiGatewayRestApi as Resource).Properties.Name;
      expect(alarm('ApiServerErrorsAlarm')).toMatchObject({
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Dimensions: [{ Name: 'ApiName', Value: apiName }],
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      const fns = Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .map(([k]) => k)
        .sort();
      const watched = ['ReportErrorsAlarm', 'ScheduleErrorsAlarm', 'NotifyErrorsAlarm'].map((name) => {
        const a = alarm(name);
        expect(a).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Threshold: 0 });
        return ((a.Dimensions as Array<{ Name: string; Value: { Ref: string } }>)[0] as { Value: { Ref: string } })
          .Value.Ref;
      });
      expect(watched.sort()).toEqual(fns);
    });

    it('fires when the NoValidHost share of schedules passes the stage threshold, on the series the functions emit', () => {
      const a = alarm('NoValidHostRateAlarm');
      const metrics = a.Metrics as Array<{
        Id: string;
        Expression?: string;
        ReturnData: boolean;
        MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] }; Stat: string };
      }>;
      const byId = Object.fromEntries(metrics.map((m) => [m.Id, m]));
      // functions/shared/metrics.ts: namespace Quartermaster, default dimensions service and stage.
      const dims = [
        { Name: 'service', Value: 'quartermaster' },
        { Name: 'stage', Value: 'prod' },
      ];
      expect(byId.nvh?.MetricStat).toMatchObject({
        Metric: { Namespace: 'Quartermaster', MetricName: 'NoValidHost', Dimensions: dims },
        Stat: 'Sum',
      });
      expect(byId.schedules?.MetricStat).toMatchObject({
        Metric: { Namespace: 'Quartermaster', MetricName: 'ScheduleLatency', Dimensions: dims },
        Stat: 'SampleCount',
      });
      expect(metrics.filter((m) => m.ReturnData).map((m) => m.Expression)).toEqual([
        'IF(schedules >= 5, 100 * nvh / schedules, 0)',
      ]);
      expect(a).toMatchObject({ Threshold: 20, ComparisonOperator: 'GreaterThanThreshold' });
    });

    it('subscribes no email by default', () => {
      const sub = resources.AlarmEmailSubscription as Resource & { Condition: string };
      expect(sub.Condition).toBe('HasAlarmEmail');
      expect(holds(conditions.HasAlarmEmail)).toBe(false);
    });

    it('subscribes the alarmEmail param to the alarm topic, and takes the threshold from a param', async () => {
      const t = await packageTemplate(['--param=alarmEmail=oncall@example.com', '--param=noValidHostAlarmPercent=35']);
      const sub = t.Resources.AlarmEmailSubscription as Resource & { Condition: string };
      expect(holds(t.Conditions?.[sub.Condition])).toBe(true);
      expect(sub.Properties).toEqual({
        TopicArn: { Ref: 'AlarmTopic' },
        Protocol: 'email',
        Endpoint: 'oncall@example.com',
      });
      // A --param arrives as a string; CloudFormation takes "35" for a Double as it takes 35.
      expect(Number((t.Resources.NoValidHostRateAlarm as Resource).Properties.Threshold)).toBe(35);
    }, 120_000);
  });
});
