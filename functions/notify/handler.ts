import type { SNSEvent } from 'aws-lambda';
import { readConfig } from '../../adapters/config';
import { SqsDeadLetters } from '../../adapters/sqs/dead-letters';
import { logger } from '../shared/http';

const config = readConfig();
const deadLetters = new SqsDeadLetters(config.region, config.dlqUrl, config.sqsEndpoint);

/**
 * The notify function. Until the notifications issue lands, every message is
 * parked in the dead-letter queue with the reason `NotImplemented` — kept, not
 * dropped and not pretended applied.
 */
export const handler = async (event: SNSEvent): Promise<void> => {
  for (const record of event.Records ?? []) {
    const reason = 'NotImplemented: notification handling is not implemented yet';
    await deadLetters.park(record.Sns.Message, reason, { message_id: record.Sns.MessageId });
    logger.warn('notification parked in the dead-letter queue', { reason, sns_message_id: record.Sns.MessageId });
  }
};
