import { randomUUID } from 'node:crypto';
import { readConfig } from '../../adapters/config';
import { makeScheduleDeps } from '../../adapters/schedule-deps';
import { readSchedulerOptions } from '../../adapters/scheduler-config';
import { loadSecret } from '../../adapters/secret';
import { ValidationError } from '../../core/errors';
import { readDecision, scheduleRequest } from '../../core/schedule-service';
import { ScheduleRequestSchema } from '../../core/scheduler/request';
import { parseJsonBody, parseWith } from '../../core/schema';
import { httpHandler } from '../shared/http';

// Cold start: config and scheduler options are validated once; a bad one fails here.
const config = readConfig();
// A deployed stage reads the token secret from SSM here, at cold start, and does not start without it.
const secret = await loadSecret(config);
const deps = makeScheduleDeps(config, readSchedulerOptions());
const DECISION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The schedule function: CONTRACT.md "Scheduling". */
export const handler = httpHandler(
  () => secret,
  [
    {
      key: 'POST /schedule',
      run: async (req) => {
        const body = parseWith(
          ScheduleRequestSchema,
          parseJsonBody(req.event.body, req.event.isBase64Encoded, config.maxBodyBytes),
        );
        return { status: 200, body: await scheduleRequest(deps, body, randomUUID) };
      },
    },
    {
      key: 'GET /decisions/{id}',
      run: async (req) => {
        const id = req.params.id ?? '';
        if (!DECISION_ID.test(id)) throw new ValidationError('id', 'must be a decision id (a uuid)');
        return { status: 200, body: await readDecision(deps.decisions, id) };
      },
    },
  ],
);
