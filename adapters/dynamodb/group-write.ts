import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { GroupClaim, GroupState } from '../../core/ports';
import type { Update } from './claim-write';
import { groupHostAttr, groupKey, HOST_ATTR_PREFIX } from './group-membership';
import { updateExpression } from './update-expression';

/**
 * A server group's item as the scheduler reads it and as a claim writes it (the leave of one member,
 * for notify and reports, is in group-membership.ts).
 */

/** The group item as the scheduler reads it: policy, members per host, their count, and its version. */
export const readGroup = async (db: DynamoDBDocumentClient, table: string, group: string): Promise<GroupState> => {
  const out = await db.send(new GetCommand({ TableName: table, Key: { host: groupKey(group) }, ConsistentRead: true }));
  const item = out.Item ?? {};
  const hosts = new Map<string, Set<string>>();
  for (const [k, v] of Object.entries(item)) {
    if (k.startsWith(HOST_ATTR_PREFIX) && v instanceof Set) hosts.set(k.slice(HOST_ATTR_PREFIX.length), v);
  }
  return {
    ...(item.policy === 'affinity' || item.policy === 'anti-affinity' ? { policy: item.policy } : {}),
    hosts,
    members: Number(item.member_count ?? 0),
    ver: Number(item.ver ?? 0),
  };
};

/**
 * The group item holds each host's members as a top-level string set `h:<host>`
 * (a DELETE of the last member removes it) and their count. Anti-affinity: no
 * picked host may have a set; affinity: every member is on the pick (`count =
 * size(h:<pick>)`) or there are none. A write that also moves members off hosts
 * (rule 6) is conditioned on the version it read instead, and rewrites those sets.
 */
export const groupUpdate = (table: string, g: GroupClaim, nowMs: number): Update => {
  const names: Record<string, string> = {
    '#policy': 'policy',
    '#changed': 'changed_at',
    '#count': 'member_count',
    '#ver': 'ver',
  };
  const joined = [...g.joins.values()].reduce((s, u) => s + u.length, 0);
  const left = [...g.leaves.values()].reduce((s, u) => s + u.length, 0);
  const values: Record<string, unknown> = { ':policy': g.policy, ':now': nowMs, ':one': 1, ':delta': joined - left };
  const conditions = ['(attribute_not_exists(#policy) OR #policy = :policy)'];
  if (joined - left > 0) {
    values[':maxBefore'] = g.maxMembers - (joined - left);
    conditions.push('(attribute_not_exists(#count) OR #count <= :maxBefore)');
  }
  const sets = ['#policy = :policy', '#changed = :now'];
  const adds = ['#count :delta', '#ver :one'];
  const removes: string[] = [];
  const hosts = [...new Set([...g.joins.keys(), ...g.leaves.keys()])];
  const touchesMembers = hosts.some((h) => (g.before.hosts.get(h)?.size ?? 0) > 0 && g.policy === 'anti-affinity');
  if (g.leaves.size > 0 || touchesMembers) {
    // Rare (a member moves): the read is exact, and each touched host's set is written whole.
    if (g.before.ver === 0) conditions.push('attribute_not_exists(#ver)');
    else {
      values[':ver'] = g.before.ver;
      conditions.push('#ver = :ver');
    }
    hosts.forEach((h, i) => {
      names[`#h${i}`] = groupHostAttr(h);
      const next = new Set(g.before.hosts.get(h) ?? []);
      for (const u of g.leaves.get(h) ?? []) next.delete(u);
      for (const u of g.joins.get(h) ?? []) next.add(u);
      if (next.size === 0) removes.push(`#h${i}`);
      else {
        values[`:h${i}`] = next;
        sets.push(`#h${i} = :h${i}`);
      }
    });
  } else {
    hosts.forEach((h, i) => {
      names[`#h${i}`] = groupHostAttr(h);
      values[`:h${i}`] = new Set(g.joins.get(h));
      adds.push(`#h${i} :h${i}`);
      if (g.policy === 'anti-affinity') conditions.push(`attribute_not_exists(#h${i})`);
    });
    if (g.policy === 'affinity') {
      names['#pick'] = groupHostAttr(g.hosts[0] as string);
      values[':zero'] = 0;
      conditions.push('(attribute_not_exists(#count) OR #count = :zero OR #count = size(#pick))');
    }
  }
  return {
    TableName: table,
    Key: { host: groupKey(g.group) },
    UpdateExpression: updateExpression({ set: sets, remove: removes, add: adds }),
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};
