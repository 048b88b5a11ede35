import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The functions' one structured logger (JSON lines). Its own file so that http.ts and
 * metrics.ts share it without importing each other.
 */
export const logger = new Logger({ serviceName: 'quartermaster' });
