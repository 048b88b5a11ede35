import { readFileSync } from 'node:fs';
import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parse } from 'yaml';

type CfnResource = { Type: string; Properties: Record<string, unknown> };

/**
 * Creates every DynamoDB table that serverless.yml deploys, from the same
 * resource definitions, with the table names given for this stage.
 * Properties DynamoDB Local does not take at creation (PITR, SSE, TTL) are left out.
 */
export const createTablesFromServerlessYml = async (
  endpoint: string,
  names: Record<string, string>,
  file = 'serverless.yml',
): Promise<void> => {
  const doc = parse(readFileSync(file, 'utf8')) as { resources: { Resources: Record<string, CfnResource> } };
  const db = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  for (const [logicalId, res] of Object.entries(doc.resources.Resources)) {
    if (res.Type !== 'AWS::DynamoDB::Table') continue;
    const tableName = names[logicalId];
    if (!tableName) throw new Error(`no local table name given for ${logicalId}`);
    const {
      PointInTimeRecoverySpecification: _p,
      SSESpecification: _s,
      TimeToLiveSpecification: _t,
      TableName: _n,
      ...props
    } = res.Properties;
    await db.send(new CreateTableCommand({ ...(props as unknown as CreateTableCommandInput), TableName: tableName }));
  }
  db.destroy();
};
