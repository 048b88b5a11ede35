/**
 * The simulator's inputs (CONTRACT.md "Simulation"): the fleet file, the trace
 * (one JSON event a line) and the named configurations. Pure: the caller reads
 * the files and hands over their text. Every error names the file and the line
 * or option at fault.
 *
 * A create goes through the very schema `POST /schedule` validates its body
 * with (core/scheduler/request.ts), so a flavor the schedule function refuses
 * is refused here too, and `toRequestSpec` turns it into the scheduler's
 * RequestSpec exactly as the schedule function does.
 */
import { z } from 'zod';
import { QmError } from '../errors';
import { type ResolvedOptions, resolveOptions } from '../scheduler/options';
import { MAX_INSTANCES_PER_REQUEST, ScheduleRequestSchema, toRequestSpec } from '../scheduler/request';
import type { RequestSpec } from '../scheduler/types';
import { HOST_PATTERN, parseWith } from '../schema';
import { SimulationInputError } from './errors';

/** One empty host of the fleet file. */
export interface FleetHost {
  host: string;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  availability_zone?: string;
  metadata: Record<string, string>;
}

/** A create: one request of `ids.length` instances (Nova's multi-create when more than one). */
export interface CreateEvent {
  op: 'create';
  t: number;
  /** 1-based line of the trace. */
  line: number;
  /** Instance ids as the trace names them, in request order. */
  ids: readonly string[];
  /** The scheduler's request; its uuids stand for `ids`, one to one. */
  spec: RequestSpec;
  group?: string;
  groupPolicy?: 'affinity' | 'anti-affinity';
  /** The flavor's identity (sizes and extra specs), to find the trace's most common flavor. */
  flavorKey: string;
}

/** A delete of one instance. */
export interface DeleteEvent {
  op: 'delete';
  t: number;
  line: number;
  id: string;
}

export type TraceEvent = CreateEvent | DeleteEvent;

/** A parsed trace. */
export interface Trace {
  events: TraceEvent[];
  /** flavorKey → a create spec of that flavor; `mostCommonFlavor` names the one with the most instances. */
  flavors: Map<string, RequestSpec>;
  mostCommonFlavor: string | null;
  /** Instances the creates ask for, in total. */
  instances: number;
}

/** One configuration to replay: its name and its resolved scheduler options. */
export interface SimConfig {
  name: string;
  opts: ResolvedOptions;
}

const count = (min = 0) => z.number().int().min(min).max(Number.MAX_SAFE_INTEGER);

const FleetSchema = z.strictObject({
  hosts: z
    .array(
      z.strictObject({
        host: z.string().regex(HOST_PATTERN, 'must be a hostname'),
        vcpus: count(),
        memory_mb: count(),
        local_gb: count(),
        availability_zone: z.string().min(1).max(255).optional(),
        // Nova's aggregate metadata: ratios, multipliers and the keys AggregateInstanceExtraSpecsFilter reads.
        metadata: z.record(z.string().min(1).max(255), z.string().max(255)).default({}),
      }),
    )
    .min(1, 'must list at least one host')
    .max(1_000_000),
});

/** Turns a ValidationError of `parseWith` into one naming `where`. */
const named = <T>(where: string, f: () => T): T => {
  try {
    return f();
  } catch (e) {
    if (e instanceof QmError) throw new SimulationInputError(where, e.message);
    throw e;
  }
};

const parseJson = (where: string, text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SimulationInputError(where, `is not JSON (${(e as Error).message})`);
  }
};

/** The fleet file (`{"hosts": [...]}`); host names must be unique. */
export const parseFleet = (text: string, file = 'fleet'): FleetHost[] => {
  const { hosts } = named(file, () => parseWith(FleetSchema, parseJson(file, text), 'fleet'));
  const seen = new Set<string>();
  hosts.forEach((h, i) => {
    if (seen.has(h.host)) throw new SimulationInputError(`${file}: hosts.${i}.host`, `repeats ${h.host}`);
    seen.add(h.host);
  });
  return hosts;
};

/**
 * A configuration file: scheduler options by their README names; what it
 * leaves out takes the default, an unknown option, filter or weigher is an
 * error naming it.
 */
export const parseConfig = (name: string, text: string, file = name): SimConfig => {
  const where = `config ${name} (${file})`;
  const raw = parseJson(where, text);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new SimulationInputError(where, 'must be a JSON object of scheduler options');
  try {
    return { name, opts: resolveOptions(raw) };
  } catch (e) {
    throw new SimulationInputError(where, (e as Error).message);
  }
};

const EventHead = z.looseObject({ op: z.enum(['create', 'delete']) });
const t = z.number().nonnegative().max(1e12);
const id = z.string().min(1).max(255);

const CreateSchema = z.strictObject({
  t,
  op: z.literal('create'),
  id,
  flavor: z.unknown(),
  group: z.string().min(1).max(255).optional(),
  group_policy: z.enum(['affinity', 'anti-affinity']).optional(),
  availability_zone: z.string().min(1).max(255).optional(),
  /** Not in the contract's line: Nova's multi-create. Instances are `<id>-1` … `<id>-N`. */
  num_instances: z.number().int().min(1).max(MAX_INSTANCES_PER_REQUEST).optional(),
});
const DeleteSchema = z.strictObject({ t, op: z.literal('delete'), id });

/** Request-body paths → the trace line's own names, so an error names what the line says. */
const lineField = (field: string): string =>
  field
    .replace(/^request_spec\.instance_type/, 'flavor')
    .replace(/^request_spec\.instance_properties\.availability_zone/, 'availability_zone')
    .replace(/^filter_properties\.scheduler_hints\./, '');

/** Stand-in uuids for the trace's instance ids: the scheduler keys instances by uuid. */
const uuidOf = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** The identity of a flavor: its sizes and extra specs (not its name). */
const flavorKeyOf = (f: RequestSpec['instance_type']): string =>
  JSON.stringify([
    f.vcpus,
    f.memory_mb,
    f.root_gb,
    f.ephemeral_gb,
    f.swap,
    Object.entries(f.extra_specs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);

/**
 * Parses a trace, one event a line (blank lines are skipped). Events must be
 * in time order; a line that is not JSON, not an event, or earlier than the
 * line before it is an error naming its line number.
 */
export const parseTrace = (text: string, file = 'trace'): Trace => {
  const events: TraceEvent[] = [];
  const uuids = new Map<string, string>();
  const uuidFor = (instance: string): string => {
    let u = uuids.get(instance);
    if (u === undefined) {
      u = uuidOf(uuids.size + 1);
      uuids.set(instance, u);
    }
    return u;
  };
  const flavors = new Map<string, RequestSpec>();
  const flavorCounts = new Map<string, number>();
  let instances = 0;
  let lastT = 0;
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    lineNo++;
    if (raw === '') continue;
    const where = `${file} line ${lineNo}`;
    const value = parseJson(where, raw);
    const head = EventHead.safeParse(value);
    if (!head.success) throw new SimulationInputError(where, 'op: must be "create" or "delete"');
    let ev: TraceEvent;
    if (head.data.op === 'delete') {
      const d = named(where, () => parseWith(DeleteSchema, value, 'event'));
      ev = { op: 'delete', t: d.t, line: lineNo, id: d.id };
    } else {
      const c = named(where, () => parseWith(CreateSchema, value, 'event'));
      const n = c.num_instances ?? 1;
      const ids = n === 1 ? [c.id] : Array.from({ length: n }, (_, k) => `${c.id}-${k + 1}`);
      const body = {
        request_spec: {
          instance_type: c.flavor,
          ...(c.availability_zone === undefined
            ? {}
            : { instance_properties: { availability_zone: c.availability_zone } }),
          num_instances: n,
        },
        ...(c.group === undefined && c.group_policy === undefined
          ? {}
          : {
              filter_properties: {
                scheduler_hints: {
                  ...(c.group === undefined ? {} : { group: c.group }),
                  ...(c.group_policy === undefined ? {} : { group_policy: c.group_policy }),
                },
              },
            }),
      };
      let req: z.infer<typeof ScheduleRequestSchema>;
      try {
        req = parseWith(ScheduleRequestSchema, body);
      } catch (e) {
        if (!(e instanceof QmError)) throw e;
        const field = String(e.details.field ?? 'event');
        throw new SimulationInputError(where, e.message.replace(field, lineField(field)));
      }
      const spec = toRequestSpec(req, ids.map(uuidFor));
      const flavorKey = flavorKeyOf(spec.instance_type);
      if (!flavors.has(flavorKey)) flavors.set(flavorKey, spec);
      flavorCounts.set(flavorKey, (flavorCounts.get(flavorKey) ?? 0) + n);
      instances += n;
      ev = {
        op: 'create',
        t: c.t,
        line: lineNo,
        ids,
        spec,
        flavorKey,
        ...(c.group === undefined ? {} : { group: c.group }),
        ...(c.group_policy === undefined ? {} : { groupPolicy: c.group_policy }),
      };
    }
    if (ev.t < lastT) throw new SimulationInputError(where, `t: ${ev.t} is before the previous event's ${lastT}`);
    lastT = ev.t;
    events.push(ev);
  }
  // Ties go to the flavor seen first (Map order).
  let mostCommonFlavor: string | null = null;
  let best = 0;
  for (const [k, c] of flavorCounts) {
    if (c > best) {
      best = c;
      mostCommonFlavor = k;
    }
  }
  return { events, flavors, mostCommonFlavor, instances };
};
