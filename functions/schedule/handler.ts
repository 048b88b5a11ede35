import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { readConfig } from '../../adapters/config';
import { makeScheduleDeps } from '../../adapters/schedule-deps';
import { readSchedulerOptions } from '../../adapters/scheduler-config';
import { loadKeyring } from '../../adapters/secret';
import { decodeDecisionCursor, encodeDecisionCursor, listingOf } from '../../core/decision-list';
import { ValidationError } from '../../core/errors';
import { readDecision, scheduleRequest } from '../../core/schedule-service';
import { ScheduleRequestSchema } from '../../core/scheduler/request';
import { parseWith } from '../../core/schema';
import { parseJsonBody } from '../shared/body';
import { httpHandler, logger } from '../shared/http';
import { observeSchedule, tagDecisionIds, tagRequest } from '../shared/metrics';

// Cold start: config and scheduler options are validated once; a bad one fails here.
const config = readConfig();
// A deployed stage reads the token secrets (current and previous) from SSM here, at cold start, and does
// not start without them; they are reread every few minutes, so a rotation needs no redeploy.
const keys = await loadKeyring(config, (e) => logger.warn('token secret refresh failed', { error: e as Error }));
const deps = makeScheduleDeps(config, readSchedulerOptions());
const DecisionListQuery = z.strictObject({
  since: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time')
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(100),
  next: z.string().max(200).optional(),
});
const DECISION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The schedule function: CONTRACT.md "Scheduling". */
export const handler = httpHandler(
  () => keys(),
  [
    {
      key: 'POST /schedule',
      run: async (req) => {
        const body = parseWith(
          ScheduleRequestSchema,
          parseJsonBody(req.event.body, req.event.isBase64Encoded, config.maxBodyBytes),
        );
        // Timed and counted here (functions/shared/metrics.ts); log lines carry decision_id once it is made.
        const result = await observeSchedule(
          () => scheduleRequest(tagDecisionIds(deps), body, randomUUID),
          deps.maxClaimAttempts,
        );
        return { status: 200, body: result };
      },
    },
    {
      // Paged listing for `qm trace export` (core/decision-list.ts).
      key: 'GET /decisions',
      run: async (req) => {
        const q = parseWith(DecisionListQuery, req.query, 'query');
        const page = await deps.decisions.list({
          limit: q.limit,
          ...(q.since ? { since: new Date(q.since).toISOString() } : {}),
          ...(q.next ? { after: decodeDecisionCursor(q.next) } : {}),
        });
        const decisions = page.decisions.map((d) => listingOf(d as unknown as Record<string, unknown>));
        return { status: 200, body: page.last ? { decisions, next: encodeDecisionCursor(page.last) } : { decisions } };
      },
    },
    {
      key: 'GET /decisions/{id}',
      run: async (req) => {
        const id = req.params.id ?? '';
        if (!DECISION_ID.test(id)) throw new ValidationError('id', 'must be a decision id (a uuid)');
        tagRequest({ decision_id: id });
        return { status: 200, body: await readDecision(deps.decisions, id) };
      },
    },
  ],
);
