import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SNSEvent } from 'aws-lambda';
import { ConfigError, readConfig } from '../../adapters/config';
import { documentClient } from '../../adapters/dynamodb/client';
import { DynamoEventStore } from '../../adapters/dynamodb/event-store';
import { DynamoGroupMembership } from '../../adapters/dynamodb/group-membership';
import { SqsDeadLetters } from '../../adapters/sqs/dead-letters';
import { BadNotificationError } from '../../core/errors';
import { type NodeEvent, parseNotification } from '../../core/events';
import { logger } from '../shared/http';
import { countNotification, metricsMiddleware, withTags } from '../shared/metrics';

const config = readConfig();
if (!config.eventsTable) throw new ConfigError('invalid configuration: QM_EVENTS_TABLE is required');
const deadLetters = new SqsDeadLetters(config.region, config.dlqUrl, config.sqsEndpoint);
const db = documentClient(config.region, config.dynamodbEndpoint, config.dynamodbTimeoutMs);
const events = new DynamoEventStore(
  db,
  config.nodesTable,
  config.eventsTable,
  config.idempotencyTtlS,
  Date.now,
  config.changeShards,
);
// Rule 7: a released instance leaves its server group (also on a duplicate: a retry finishes a leave).
const groups = config.decisionsTable
  ? new DynamoGroupMembership(db, config.nodesTable, config.decisionsTable)
  : undefined;

/**
 * The notify function: each SNS record's message is a Nova notification,
 * applied to its node in one transaction (docs/accounting.md). A message that
 * can never apply (not JSON, unknown event_type, a missing field, an unknown
 * host) is kept in the dead-letter queue with the reason and the others go on;
 * anything else (DynamoDB unavailable, throttled) fails the invocation after
 * the other records, so Lambda retries it — duplicates change nothing.
 */
const notify = async (event: SNSEvent): Promise<void> => {
  let failure: unknown;
  for (const record of event.Records ?? []) {
    const body = record.Sns.Message;
    const snsId = record.Sns.MessageId;
    let e: NodeEvent | undefined;
    try {
      e = parseNotification(body);
      const ev = e;
      // Every log and EMF line of this record names its host and message (functions/shared/metrics.ts).
      await withTags({ host: ev.host, message_id: ev.message_id }, async () => {
        const outcome = await events.apply(ev);
        if (ev.kind === 'release' && outcome !== 'unknown_host') await groups?.left(ev.host, ev.instance);
        if (outcome === 'unknown_host') {
          await deadLetters.park(body, `UnknownHost: no compute node ${ev.host}`, { message_id: ev.message_id });
          countNotification({ outcome: 'dead_lettered', reason: 'UnknownHost' });
          logger.warn('notification for an unknown host parked');
        } else {
          countNotification({ outcome, eventType: ev.event_type });
          logger.info('notification', { outcome, event_type: ev.event_type });
        }
      });
    } catch (err) {
      if (err instanceof BadNotificationError) {
        await deadLetters.park(body, err.message, { sns_message_id: snsId });
        countNotification({ outcome: 'dead_lettered', reason: 'BadNotification' });
        logger.warn('notification parked in the dead-letter queue', { reason: err.message, sns_message_id: snsId });
      } else {
        logger.error('notification not applied; the invocation fails so Lambda retries it', {
          sns_message_id: snsId,
          ...(e ? { host: e.host, message_id: e.message_id } : {}),
          error: String(err),
        });
        failure ??= err;
      }
    }
  }
  if (failure) throw failure;
};

/** The notify function: `notify` with Lambda's context on every log line and its metrics published. */
export const handler = middy<SNSEvent, void>(notify)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsMiddleware());
