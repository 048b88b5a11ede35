import type { SNSEvent } from 'aws-lambda';
import { ConfigError, readConfig } from '../../adapters/config';
import { documentClient } from '../../adapters/dynamodb/client';
import { DynamoEventStore } from '../../adapters/dynamodb/event-store';
import { DynamoGroupMembership } from '../../adapters/dynamodb/group-membership';
import { SqsDeadLetters } from '../../adapters/sqs/dead-letters';
import { BadNotificationError } from '../../core/errors';
import { parseNotification } from '../../core/events';
import { logger } from '../shared/http';

const config = readConfig();
if (!config.eventsTable) throw new ConfigError('invalid configuration: QM_EVENTS_TABLE is required');
const deadLetters = new SqsDeadLetters(config.region, config.dlqUrl, config.sqsEndpoint);
const db = documentClient(config.region, config.dynamodbEndpoint);
const events = new DynamoEventStore(db, config.nodesTable, config.eventsTable, config.idempotencyTtlS);
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
export const handler = async (event: SNSEvent): Promise<void> => {
  let failure: unknown;
  for (const record of event.Records ?? []) {
    const body = record.Sns.Message;
    const snsId = record.Sns.MessageId;
    try {
      const e = parseNotification(body);
      const outcome = await events.apply(e);
      if (e.kind === 'release' && outcome !== 'unknown_host') await groups?.left(e.host, e.instance);
      if (outcome === 'unknown_host') {
        await deadLetters.park(body, `UnknownHost: no compute node ${e.host}`, { message_id: e.message_id });
        logger.warn('notification for an unknown host parked', { host: e.host, message_id: e.message_id });
      } else {
        logger.info('notification', { outcome, event_type: e.event_type, host: e.host, message_id: e.message_id });
      }
    } catch (err) {
      if (err instanceof BadNotificationError) {
        await deadLetters.park(body, err.message, { sns_message_id: snsId });
        logger.warn('notification parked in the dead-letter queue', { reason: err.message, sns_message_id: snsId });
      } else {
        logger.error('notification not applied; the invocation fails so Lambda retries it', {
          sns_message_id: snsId,
          error: String(err),
        });
        failure ??= err;
      }
    }
  }
  if (failure) throw failure;
};
