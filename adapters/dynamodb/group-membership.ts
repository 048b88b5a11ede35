import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Claim } from '../../core/nodes';
import type { GroupMembership } from '../../core/ports';
import { pointerKey, refOf } from './decision-store';

/** The group item's key in the nodes table (a `#` key: never a node, never in by_change). */
export const groupKey = (group: string): string => `#group#${group}`;
/** A group item's per-host member sets are the top-level attributes `h:<host>`. */
export const HOST_ATTR_PREFIX = 'h:';
export const groupHostAttr = (host: string): string => `${HOST_ATTR_PREFIX}${host}`;

const lostRace = (e: unknown): boolean => e instanceof ConditionalCheckFailedException;

/**
 * `uuid` leaves `group`'s members on `host`, once: the DELETE of the last one
 * removes the host's set, so the host is free for the group again. Conditioned on
 * the member being there, so a repeat (a retried message) changes nothing.
 */
export const leaveGroup = async (
  db: DynamoDBDocumentClient,
  table: string,
  group: string,
  host: string,
  uuid: string,
  nowMs: number,
): Promise<void> => {
  try {
    await db.send(
      new UpdateCommand({
        TableName: table,
        Key: { host: groupKey(group) },
        UpdateExpression: 'DELETE #h :set ADD #count :minus, #ver :one SET #changed = :now',
        ConditionExpression: 'contains(#h, :u)',
        ExpressionAttributeNames: {
          '#h': groupHostAttr(host),
          '#count': 'member_count',
          '#ver': 'ver',
          '#changed': 'changed_at',
        },
        ExpressionAttributeValues: { ':set': new Set([uuid]), ':u': uuid, ':minus': -1, ':one': 1, ':now': nowMs },
      }),
    );
  } catch (e) {
    if (!lostRace(e)) throw e;
  }
};

/**
 * Rule 7 for notify and the report path: an instance that is deleted, fails, or
 * whose claim a report reaps, leaves its server group; then its pointer goes,
 * unless it names another claim by now (the uuid was scheduled again).
 */
export class DynamoGroupMembership implements GroupMembership {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly nodesTable: string,
    private readonly decisionsTable: string,
    private readonly now: () => number = Date.now,
  ) {}

  async left(host: string, uuid: string): Promise<void> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.decisionsTable, Key: { id: pointerKey(uuid) }, ConsistentRead: true }),
    );
    if (!out.Item) return;
    const ref = refOf(out.Item);
    // Scheduled elsewhere since: its claim and its membership live on the other host now.
    if (ref.host !== host) return;
    if (ref.group !== undefined) await leaveGroup(this.db, this.nodesTable, ref.group, host, uuid, this.now());
    await this.dropPointer(uuid, host, ref.claimed_at);
  }

  async reaped(host: string, claims: readonly Claim[]): Promise<void> {
    try {
      for (const c of claims) {
        if (c.group !== undefined)
          await leaveGroup(this.db, this.nodesTable, c.group, host, c.instance_uuid, this.now());
        await this.dropPointer(c.instance_uuid, host, c.claimed_at);
      }
    } catch (e) {
      // The report has landed: failing it now would make the agent retry a seq already stored.
      console.error(
        JSON.stringify({ level: 'ERROR', message: 'reaped claims did not leave their groups', host, error: String(e) }),
      );
    }
  }

  private async dropPointer(uuid: string, host: string, claimedAt: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.decisionsTable,
          Key: { id: pointerKey(uuid) },
          ConditionExpression: '#host = :host AND #at = :at',
          ExpressionAttributeNames: { '#host': 'host', '#at': 'claimed_at' },
          ExpressionAttributeValues: { ':host': host, ':at': claimedAt },
        }),
      );
    } catch (e) {
      if (!lostRace(e)) throw e;
    }
  }
}
