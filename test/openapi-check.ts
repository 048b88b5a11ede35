/**
 * Every answer an integration test receives through `call()` (test/helpers.ts) is
 * checked against the stack's own `GET /openapi.json`: a route the document
 * describes must answer a status it describes (or its `default`) with a body its
 * schema accepts. Answers to paths or methods the document does not describe, and
 * RouteNotFound answers (the fuzz tests' probes), are left alone.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

type Json = Record<string, any>;
interface Operation {
  pattern: RegExp;
  method: string;
  validators: Map<string, ValidateFunction>;
}

const load = async (baseUrl: string): Promise<Operation[]> => {
  const r = await fetch(`${baseUrl}/openapi.json`, { signal: AbortSignal.timeout(90_000) });
  if (r.status !== 200) throw new Error(`GET /openapi.json answered ${r.status}`);
  const doc = (await r.json()) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(doc, 'openapi.json');
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    // `/nodes/{host}` matches one non-empty segment per parameter.
    const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+').replaceAll('.', '\\.')}$`);
    for (const [method, op] of Object.entries(item as Json)) {
      if (method === 'parameters') continue;
      const validators = new Map<string, ValidateFunction>();
      for (const [status, res] of Object.entries((op as Json).responses as Json)) {
        if (!(res as Json).content?.['application/json']) continue;
        const pointer = `openapi.json#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses/${status}/content/application~1json/schema`;
        validators.set(status, ajv.getSchema(pointer) as ValidateFunction);
      }
      ops.push({ pattern, method: method.toUpperCase(), validators });
    }
  }
  return ops;
};

let operations: Promise<Operation[]> | undefined;

/**
 * Throws when `body` (the answer of `method path` with `status`) does not match the
 * document: an undescribed status of a described route, or a body its schema refuses.
 */
export const checkAnswer = async (
  baseUrl: string,
  method: string,
  path: string,
  status: number,
  body: unknown,
): Promise<void> => {
  operations ??= load(baseUrl);
  const bare = path.split('?')[0] ?? path;
  const op = (await operations).find((o) => o.method === method.toUpperCase() && o.pattern.test(bare));
  // A path that looks like a route but is none (`/nodes/%2e%2e` is `/nodes/..`) answers as no route.
  if (!op || (body as Json)?.error?.code === 'RouteNotFound') return;
  const validate = op.validators.get(String(status)) ?? op.validators.get('default');
  if (!validate) throw new Error(`openapi.json does not describe ${method} ${bare} answering ${status}`);
  if (!validate(body)) {
    throw new Error(
      `${method} ${bare} ${status} does not match openapi.json: ${JSON.stringify(validate.errors?.slice(0, 3))} ` +
        `body ${JSON.stringify(body).slice(0, 300)}`,
    );
  }
};
