import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { report, stack, uniqueHost } from './helpers';

const AWS = '/usr/bin/aws';

// Debian's awscli is a real, independent client of DynamoDB Local: it sees what the API stored.
describe.skipIf(!existsSync(AWS))('the stored node, read with /usr/bin/aws', () => {
  it('is one DynamoDB item per host with the reported columns', async () => {
    const host = uniqueHost('awscli');
    await report(host, { seq: 3, vcpus: 12 });
    const { stdout } = await promisify(execFile)(
      AWS,
      [
        'dynamodb',
        'get-item',
        '--endpoint-url',
        stack().dynamodbUrl,
        '--region',
        'us-east-1',
        '--table-name',
        stack().nodesTable,
        '--key',
        JSON.stringify({ host: { S: host } }),
        '--consistent-read',
      ],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' } },
    );
    const item = JSON.parse(stdout).Item;
    expect(item.seq).toEqual({ N: '3' });
    expect(item.vcpus).toEqual({ N: '12' });
    expect(item.hypervisor_hostname).toEqual({ S: host });
  });
});
