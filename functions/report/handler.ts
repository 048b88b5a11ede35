import { readConfig } from '../../adapters/config';
import { documentClient } from '../../adapters/dynamodb/client';
import { DynamoGroupMembership } from '../../adapters/dynamodb/group-membership';
import { DynamoNodeStore } from '../../adapters/dynamodb/node-store';
import { loadKeyring } from '../../adapters/secret';
import { StaleReportError, ValidationError } from '../../core/errors';
import { ListQuerySchema, PatchSchema, ReportSchema } from '../../core/node/schemas';
import { toNodeView } from '../../core/node/view';
import { getNode, patchNode, softDeleteNode, upsertReport } from '../../core/node-service';
import { HOST_PATTERN, parseWith } from '../../core/schema';
import { dashboardRoute } from '../dashboard/page';
import { parseJsonBody } from '../shared/body';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import { httpHandler, logger, type Request } from '../shared/http';
import { countReport, tagRequest } from '../shared/metrics';
import { openApiDocument } from '../shared/openapi';

// Cold start: config is validated once; a broken one fails here, loudly.
const config = readConfig();
// A deployed stage reads the token secrets (current and previous) from SSM here, at cold start, and does
// not start without them; they are reread every few minutes, so a rotation needs no redeploy.
const keys = await loadKeyring(config, (e) => logger.warn('token secret refresh failed', { error: e as Error }));
const db = documentClient(config.region, config.dynamodbEndpoint, config.dynamodbTimeoutMs);
const store = new DynamoNodeStore(db, config.nodesTable, Date.now, config.changeShards);
// Rule 7: claims a report reaps leave their server groups.
const groups = config.decisionsTable
  ? new DynamoGroupMembership(db, config.nodesTable, config.decisionsTable)
  : undefined;
const now = () => Date.now();
const ledgerPolicy = { claimTtlS: config.claimTtlS, windowS: config.idempotencyTtlS };
const view = (r: Parameters<typeof toNodeView>[0]) => toNodeView(r, now(), config.serviceDownTimeS);

const hostParam = (req: Request): string => {
  const host = req.params.host ?? '';
  if (!HOST_PATTERN.test(host)) throw new ValidationError('host', 'must be a hostname');
  tagRequest({ host });
  return host;
};

// Built on first request, once per stage: the servers entry is `/<stage>`, relative to the host that served it.
const openApi = new Map<string, unknown>();
const openApiFor = (stage: string) => {
  if (!openApi.has(stage)) openApi.set(stage, openApiDocument(`/${stage}`));
  return openApi.get(stage);
};

const body = (req: Request): unknown => parseJsonBody(req.event.body, req.event.isBase64Encoded, config.maxBodyBytes);

/** The report function: the node routes of CONTRACT.md "Compute nodes", and the dashboard page. */
export const handler = httpHandler(
  () => keys(),
  [
    {
      key: 'PUT /nodes/{host}',
      nodeMay: true,
      run: async (req) => {
        const host = hostParam(req);
        const report = parseWith(ReportSchema, body(req));
        if (report.hypervisor_hostname !== host) {
          throw new ValidationError('hypervisor_hostname', `must equal the host in the path (${host})`);
        }
        // A node token is checked against the host's revocation; the operator's is not a node's.
        const issuedAt = req.principal?.kind === 'node' ? req.principal.issuedAtMs : undefined;
        const stored = await upsertReport(store, host, report, now, ledgerPolicy, issuedAt, groups).catch((e) => {
          if (e instanceof StaleReportError) countReport('stale');
          throw e;
        });
        countReport('accepted');
        return { status: 200, body: view(stored) };
      },
    },
    {
      key: 'GET /nodes',
      run: async (req) => {
        const q = parseWith(ListQuerySchema, req.query, 'query');
        const page = await store.list(q.limit, q.next === undefined ? undefined : decodeCursor(q.next), q.deleted);
        const nodes = page.nodes.map(view);
        return { status: 200, body: page.lastHost ? { nodes, next: encodeCursor(page.lastHost) } : { nodes } };
      },
    },
    {
      key: 'GET /nodes/{host}',
      run: async (req) => ({ status: 200, body: view(await getNode(store, hostParam(req))) }),
    },
    {
      key: 'PATCH /nodes/{host}',
      run: async (req) => {
        const host = hostParam(req);
        const patch = parseWith(PatchSchema, body(req));
        return { status: 200, body: view(await patchNode(store, host, patch, now)) };
      },
    },
    {
      key: 'DELETE /nodes/{host}',
      run: async (req) => ({ status: 200, body: view(await softDeleteNode(store, hostParam(req), now)) }),
    },
    dashboardRoute,
    {
      key: 'GET /openapi.json',
      public: true,
      run: async (req) => ({ status: 200, body: openApiFor(req.event.requestContext?.stage ?? 'dev') }),
    },
  ],
);
