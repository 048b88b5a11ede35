/**
 * The OpenAPI 3.1 description served at `GET /openapi.json` (CONTRACT.md
 * "Dashboard and API description"). Request bodies and query parameters are
 * generated from the very zod schemas the handlers validate with (`z.toJSONSchema`,
 * their input side: defaults optional), responses from functions/shared/responses.ts
 * (their output side), so the description cannot drift from the code.
 */
import { z } from 'zod';
import { DecisionListQuery } from '../../core/decision-list';
import { DECISION_ID_PATTERN, DecisionQuerySchema } from '../../core/decision-verdict';
import { ListQuerySchema, PatchSchema, ReportSchema } from '../../core/nodes';
import { ScheduleRequestSchema } from '../../core/scheduler/request';
import { HOST_PATTERN } from '../../core/schema';
import {
  DecisionListSchema,
  DecisionPageSchema,
  DecisionSchema,
  ErrorSchema,
  HostVerdictSchema,
  NodeListSchema,
  NodeSchema,
  ScheduleResultSchema,
} from './responses';

type Json = Record<string, unknown>;
type Io = 'input' | 'output';

const defOf = (s: z.core.$ZodType) => s._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;

/** How zod renders a schema: 2020-12 (OpenAPI 3.1's dialect), with the two forms below given a JSON meaning. */
const generatorParams = (io: Io): z.core.ToJSONSchemaParams => ({
  io,
  target: 'draft-2020-12',
  unrepresentable: (ctx) => {
    const def = defOf(ctx.zodSchema);
    if (def.type === 'map') {
      return {
        type: 'object',
        propertyNames: jsonSchemaOf(def.keyType as z.core.$ZodType, io),
        additionalProperties: jsonSchemaOf(def.valueType as z.core.$ZodType, io),
      } as z.core.JSONSchema.BaseSchema;
    }
    // A preprocess step's own transform; the pipe around it is rewritten by `override` below.
    if (def.type === 'transform') return {};
    return 'throw';
  },
  override: (ctx) => {
    const def = defOf(ctx.zodSchema);
    const from = def.in as z.core.$ZodType | undefined;
    if (io !== 'input' || def.type !== 'pipe' || !from || defOf(from).type !== 'transform') return;
    const target = ctx.jsonSchema as Json;
    for (const k of Object.keys(target)) delete target[k];
    Object.assign(target, jsonSchemaOf(def.out as z.core.$ZodType, io));
  },
});

const bare = (s: Json): Json => {
  const { $schema: _s, $id: _i, ...rest } = s;
  return rest;
};

/**
 * JSON Schema 2020-12 (OpenAPI 3.1's dialect) for `schema`. Two zod forms have no JSON
 * equivalent and are given one: a map with string keys is a JSON object (PATCH
 * `metadata` is read into a Map to keep `constructor` & co. as plain keys), and a
 * preprocess step is described by what it feeds.
 */
export const jsonSchemaOf = (schema: z.core.$ZodType, io: Io): Json =>
  bare(z.toJSONSchema(schema, generatorParams(io)) as Json);

/** Named schemas as OpenAPI components, referring to each other by `#/components/schemas/<name>`. */
const componentsOf = (named: Record<string, z.core.$ZodType>, io: Io): Record<string, Json> => {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, { ...generatorParams(io), uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(Object.entries(out.schemas).map(([k, v]) => [k, bare(v as Json)]));
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: Json) => ({ 'application/json': { schema } });

/** The query parameters of a strict object schema, one by one. */
const queryParameters = (schema: z.ZodObject) =>
  Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: 'query',
    required: !(field as z.ZodType).safeParse(undefined).success,
    schema: jsonSchemaOf(field as z.ZodType, 'input'),
  }));

const hostParameter = {
  name: 'host',
  in: 'path',
  required: true,
  description: 'the hypervisor hostname (percent-decoded once)',
  schema: jsonSchemaOf(z.string().regex(HOST_PATTERN), 'input'),
};
const decisionIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'a decision_id from POST /schedule or a NoValidHost error',
  schema: jsonSchemaOf(z.string().regex(DECISION_ID_PATTERN), 'input'),
};

/** An error response whose `error.code` is one of `codes` (any code when `open`: the gateway may answer too). */
const error = (description: string, codes: readonly string[], headers?: Json, open = false) => ({
  description: `${description} (${codes.join(', ')}${open ? ', …' : ''})`,
  ...(headers ? { headers } : {}),
  content: jsonContent(
    open
      ? ref('Error')
      : { allOf: [ref('Error'), { properties: { error: { properties: { code: { enum: [...codes] } } } } }] },
  ),
});
const retryAfter = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } };

/** The errors every authenticated route can answer; `default`: the gateway's own answers and a server error. */
const common = {
  default: {
    description:
      "any other status: the gateway's own answer (API Gateway's THROTTLED, REQUEST_TOO_LARGE …; locally " +
      'PayloadTooLarge, BadRequest …) or 500 InternalError with a request_id, in the same shape',
    content: jsonContent(ref('Error')),
  },
  '400': error(
    'bad input; `details.field` names the offending field, and nothing changed; a request the gateway cannot ' +
      'read (bad percent-encoding) is refused before any function with its own code',
    ['ValidationError', 'BadRequest'],
    undefined,
    true,
  ),
  '401': error('no token, a bad one, an expired one or a revoked one', [
    'Unauthorized',
    'TokenExpired',
    'TokenRevoked',
  ]),
  '403': error('a node token used off its own host or off PUT /nodes/{host}', ['Forbidden']),
  '503': error(
    'the store is unreachable or throttling, or the node kept changing: retry',
    ['StoreUnavailable', 'NodeBusy'],
    retryAfter,
  ),
};
const nodeNotFound = { '404': error('the host has no record', ['NodeNotFound']) };
const ok = (description: string, schema: Json) => ({ '200': { description, content: jsonContent(schema) } });

/** Components: request bodies (input side of the handlers' schemas) and responses (output side). */
const components = () => ({
  securitySchemes: {
    bearer: {
      type: 'http',
      scheme: 'bearer',
      description:
        'A node token (qmn.…; PUT /nodes/{its host} only) or the operator token (qmo.…; every route): npx qm token …',
    },
  },
  schemas: {
    ...componentsOf(
      { NodeReport: ReportSchema, NodePatch: PatchSchema, ScheduleRequest: ScheduleRequestSchema },
      'input',
    ),
    ...componentsOf(
      {
        Node: NodeSchema,
        NodeList: NodeListSchema,
        ScheduleResult: ScheduleResultSchema,
        Decision: DecisionSchema,
        DecisionPage: DecisionPageSchema,
        HostVerdict: HostVerdictSchema,
        DecisionList: DecisionListSchema,
        Error: ErrorSchema,
      },
      'output',
    ),
  },
});

const paths = () => ({
  '/nodes': {
    get: {
      operationId: 'listNodes',
      summary: 'List compute nodes, a page at a time',
      parameters: queryParameters(ListQuerySchema),
      responses: { ...ok('one page of nodes', ref('NodeList')), ...common },
    },
  },
  '/nodes/{host}': {
    parameters: [hostParameter],
    put: {
      operationId: 'reportNode',
      summary: "The agent's report (upsert)",
      description: 'A node token of this host or the operator token. `seq` must grow: else 409 StaleReport.',
      requestBody: { required: true, content: jsonContent(ref('NodeReport')) },
      responses: {
        ...ok('the stored node', ref('Node')),
        ...common,
        '409': error('seq is not greater than the stored one; nothing changed', ['StaleReport']),
      },
    },
    get: {
      operationId: 'getNode',
      summary: 'Read one node (a soft-deleted one too)',
      responses: { ...ok('the node', ref('Node')), ...common, ...nodeNotFound },
    },
    patch: {
      operationId: 'patchNode',
      summary: "The operator's settings: disabled, disabled_reason, availability_zone, metadata, revoke_tokens",
      requestBody: { required: true, content: jsonContent(ref('NodePatch')) },
      responses: { ...ok('the node after the patch', ref('Node')), ...common, ...nodeNotFound },
    },
    delete: {
      operationId: 'deleteNode',
      summary: 'Soft-delete a node (a later report revives it)',
      responses: { ...ok('the soft-deleted node', ref('Node')), ...common, ...nodeNotFound },
    },
  },
  '/schedule': {
    post: {
      operationId: 'schedule',
      summary: "Place instances (Nova's request spec); dry_run claims nothing and returns the full ranking",
      requestBody: { required: true, content: jsonContent(ref('ScheduleRequest')) },
      responses: {
        ...ok('the picks, in request order', ref('ScheduleResult')),
        ...common,
        '409': error(
          'no host fits (details: decision_id, filter_counts, hosts, summary; past 1,000 rejected hosts, hosts names the first 1,000 and hosts_total, hosts_truncated say so), or the server group refuses',
          ['NoValidHost', 'ServerGroupPolicyConflict', 'ServerGroupFull'],
        ),
      },
    },
  },
  '/decisions': {
    get: {
      operationId: 'listDecisions',
      summary: 'Stored decisions, a page at a time, each as a trace needs it (qm trace export); pages follow next',
      parameters: queryParameters(DecisionListQuery),
      responses: { ...ok('a page of decisions', ref('DecisionList')), ...common },
    },
  },
  '/decisions/{id}': {
    parameters: [decisionIdParameter],
    get: {
      operationId: 'getDecision',
      summary:
        "A stored decision (paged past ~5,000 rejected hosts: follow next); with ?host=, that one host's verdict",
      parameters: queryParameters(DecisionQuerySchema),
      responses: {
        ...ok('the decision (or its first page), with ?next= a later page, with ?host= the verdict on that host', {
          oneOf: [ref('Decision'), ref('DecisionPage'), ref('HostVerdict')],
        }),
        ...common,
        '404': error('no such decision (or it expired), or the decision does not name the host', [
          'NotFound',
          'HostNotInDecision',
        ]),
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'getOpenApi',
      summary: 'This document',
      security: [],
      responses: ok('the OpenAPI 3.1 description', { type: 'object' }),
    },
  },
  '/dashboard': {
    get: {
      operationId: 'getDashboard',
      summary: 'The operator dashboard: one self-contained HTML page (it asks for the operator token itself)',
      security: [],
      responses: {
        '200': { description: 'the page', content: { 'text/html': { schema: { type: 'string' } } } },
      },
    },
  },
});

/**
 * The whole document. `serverUrl` is where the API is reached from the reader's
 * side (the served document uses `/<stage>`, relative to the host it came from).
 */
export const openApiDocument = (serverUrl: string) => ({
  openapi: '3.1.0',
  info: {
    title: 'Quartermaster',
    version: '0.1.0',
    summary: "OpenStack Nova's resource tracker and filter scheduler, serverless on AWS",
    description:
      'Every non-2xx answer is `{"error": {"code", "message", "details"}}`. A path or method that is no route ' +
      'answers 404 RouteNotFound; a server error answers 500 InternalError with a request_id.',
  },
  servers: [{ url: serverUrl }],
  security: [{ bearer: [] }],
  paths: paths(),
  components: components(),
});
