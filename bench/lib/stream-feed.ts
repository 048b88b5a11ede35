import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * Reads a table's DynamoDB Stream (NEW_AND_OLD_IMAGES) from DynamoDB Local and hands every
 * record's images to `onRecord`, shard after shard, in order. Spoken as plain JSON over HTTP
 * (the DynamoDBStreams_20120810 target): the project does not carry the streams SDK client for a
 * bench, and DynamoDB Local does not check signatures.
 */
type Images = { OldImage?: Record<string, AttributeValue>; NewImage?: Record<string, AttributeValue> };
type StreamRecord = { dynamodb?: Images };
type Shard = { ShardId: string; ParentShardId?: string; SequenceNumberRange?: { EndingSequenceNumber?: string } };

export class StreamFeed {
  private readonly done = new Set<string>();
  private readonly iterators = new Map<string, string>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Records handed on so far. */
  records = 0;
  /** When the last poll of every shard came back empty. */
  idle = false;

  constructor(
    private readonly endpoint: string,
    private readonly streamArn: string,
    private readonly onRecord: (before: Images['OldImage'], after: Images['NewImage']) => void,
  ) {}

  private async call<T>(target: string, body: unknown, attempt = 1): Promise<T> {
    let r: Response;
    try {
      r = await this.send(target, body);
    } catch (e) {
      // fetch failed: DynamoDB Local closed an idle keep-alive connection (seen after a minutes-long cold
      // scan at 100k hosts), or dropped one while overloaded; a GetRecords or DescribeStream is safe to
      // send again, after a pause that grows (0.25, 0.5, 1, 2 … s) so an overloaded DynamoDB Local recovers.
      if (attempt >= 8) throw e;
      await new Promise((resolve) => setTimeout(resolve, 125 * 2 ** attempt));
      return this.call(target, body, attempt + 1);
    }
    const out = (await r.json()) as T;
    if (r.status !== 200) throw new Error(`${target}: ${r.status} ${JSON.stringify(out)}`);
    return out;
  }

  private send(target: string, body: unknown): Promise<Response> {
    return fetch(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDBStreams_20120810.${target}`,
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify(body),
    });
  }

  private async iterator(shard: string, type: 'LATEST' | 'TRIM_HORIZON'): Promise<string> {
    const it = await this.call<{ ShardIterator: string }>('GetShardIterator', {
      StreamArn: this.streamArn,
      ShardId: shard,
      ShardIteratorType: type,
    });
    return it.ShardIterator;
  }

  private async openShards(type: 'LATEST' | 'TRIM_HORIZON' = 'TRIM_HORIZON'): Promise<void> {
    const d = await this.call<{ StreamDescription: { Shards: Shard[] } }>('DescribeStream', {
      StreamArn: this.streamArn,
    });
    for (const s of d.StreamDescription.Shards) {
      if (this.done.has(s.ShardId) || this.iterators.has(s.ShardId)) continue;
      // A child shard is read once its parent is finished, so per-item order holds.
      if (s.ParentShardId && !this.done.has(s.ParentShardId) && this.iterators.has(s.ParentShardId)) continue;
      this.iterators.set(s.ShardId, await this.iterator(s.ShardId, type));
    }
  }

  /** One pass over every open shard; true when it handed on any record. */
  async poll(): Promise<boolean> {
    let any = false;
    let closed = false;
    for (const [shard, iterator] of [...this.iterators]) {
      let out: { Records: StreamRecord[]; NextShardIterator?: string };
      try {
        out = await this.call('GetRecords', { ShardIterator: iterator, Limit: 1000 });
      } catch (e) {
        // DynamoDB Local answers TrimmedDataAccess on a TRIM_HORIZON iterator of a shard with no record yet.
        if (!String(e).includes('TrimmedDataAccess')) throw e;
        this.iterators.set(shard, await this.iterator(shard, 'TRIM_HORIZON'));
        continue;
      }
      for (const r of out.Records) {
        this.onRecord(r.dynamodb?.OldImage, r.dynamodb?.NewImage);
        this.records++;
      }
      any ||= out.Records.length > 0;
      if (out.NextShardIterator) this.iterators.set(shard, out.NextShardIterator);
      else {
        this.iterators.delete(shard);
        this.done.add(shard);
        closed = true;
      }
    }
    if (closed || this.iterators.size === 0) await this.openShards();
    this.idle = !any;
    return any;
  }

  /** Polls in the background until stop(). */
  async start(intervalMs = 100): Promise<void> {
    // Nothing is written between turning the stream on and this: LATEST misses nothing.
    await this.openShards('LATEST');
    this.loop = (async () => {
      while (!this.stopped) {
        const any = await this.poll();
        if (!any) await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
  }

  /** Stops the background loop, then reads until two passes in a row bring nothing. */
  async drain(): Promise<void> {
    this.stopped = true;
    await this.loop;
    let empty = 0;
    while (empty < 2) {
      if (await this.poll()) empty = 0;
      else {
        empty++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}
