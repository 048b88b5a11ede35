import { randomUUID } from 'node:crypto';
import { readConfig } from '../../adapters/config';
import { makeScheduleDeps } from '../../adapters/schedule-deps';
import { readSchedulerOptions } from '../../adapters/scheduler-config';
import { loadKeyring } from '../../adapters/secret';
import { DecisionListQuery, decodeDecisionCursor, encodeDecisionCursor, listingOf } from '../../core/decision-list';
import { readDecision, readHostVerdict } from '../../core/decision-read';
import { DECISION_ID_PATTERN, DecisionQuerySchema } from '../../core/decision-verdict';
import { ValidationError } from '../../core/errors';
import { scheduleRequest } from '../../core/schedule-service';
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
const deps = makeScheduleDeps(config, readSchedulerOptions(), ({ message, ...rest }) =>
  logger.info(String(message), rest),
);

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
        if (!DECISION_ID_PATTERN.test(id)) throw new ValidationError('id', 'must be a decision id (a uuid)');
        tagRequest({ decision_id: id });
        const { host, next } = parseWith(DecisionQuerySchema, req.query, 'query');
        if (host !== undefined && next !== undefined) throw new ValidationError('next', 'cannot be combined with host');
        if (host !== undefined) return { status: 200, body: await readHostVerdict(deps.decisions, id, host) };
        // A paged decision answers a page at a time (core/decision-read.ts).
        return { status: 200, body: await readDecision(deps.decisions, id, next) };
      },
    },
  ],
);
