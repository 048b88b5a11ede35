/**
 * A synthetic trace of arrivals and departures, after the shape of Microsoft
 * Azure's VM workload as characterized in Cortez et al., "Resource Central:
 * Understanding and Predicting Workloads for Improved Resource Management in
 * Large Cloud Platforms", SOSP 2017 (§3, the VM size and lifetime figures; the
 * public AzurePublicDataset V1 trace is a subset of that workload):
 *
 * - sizes: most VMs are small — mostly 1 or 2 virtual cores and at most 4 GB —
 *   in Azure's size series (0.75, 1.75, 3.5, 7, 14, 28 GB for 1, 1, 2, 4, 8, 16
 *   cores); the shares below (15, 30, 30, 15, 7, 3 %) are our reading of that
 *   shape, so 75 % of VMs have ≤ 2 cores and ≤ 3.5 GB, 3 % are 16-core; the root
 *   disks (10 GB per 0.75–1.75 GB of RAM, doubling with each size) are ours;
 * - lifetimes: heavy-tailed — most VMs live minutes to hours, a tenth more than
 *   a day, a few the whole 30-day trace. Modelled as a log-normal with median
 *   2 h and σ = 2 (P(> 1 day) = P(Z > ln 12 / 2) ≈ 11 %, mean ≈ 15 h), cut at 30
 *   days and at 60 s below; again our fit of the shape, not the paper's numbers;
 * - arrivals: a Poisson process (`rate_per_hour`, default 60);
 * - deployments: 10 % of requests are a multi-create of 2–4 VMs of one flavor
 *   in an anti-affinity server group (the paper reports multi-VM deployments;
 *   the share is ours), deleted together.
 *
 * A mix file may replace any of these. Pure: the randomness is the seed's.
 */
import { z } from 'zod';
import { parseWith } from '../schema';
import { SimulationInputError } from './errors';
import { seededRandom } from './rng';

const FlavorMix = z.strictObject({
  name: z.string().max(255).optional(),
  vcpus: z.number().int().min(1).max(4096),
  memory_mb: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  root_gb: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  ephemeral_gb: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  swap: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  extra_specs: z.record(z.string().min(1).max(255), z.string().max(255)).optional(),
});

/** The mix file: every part optional, each replacing the default above. */
export const MixSchema = z.strictObject({
  flavors: z
    .array(z.strictObject({ weight: z.number().positive().max(1e9), flavor: FlavorMix }))
    .min(1)
    .max(1000)
    .optional(),
  lifetime: z
    .strictObject({
      median_s: z.number().positive().max(1e9),
      sigma: z.number().nonnegative().max(10),
      max_s: z.number().positive().max(1e10).optional(),
    })
    .optional(),
  rate_per_hour: z.number().positive().max(1e9).optional(),
  deployments: z
    .strictObject({
      share: z.number().min(0).max(1),
      min: z.number().int().min(2).max(50),
      max: z.number().int().min(2).max(50),
    })
    .refine((d) => d.min <= d.max, { message: 'min must not exceed max', path: ['min'] })
    .optional(),
});
export type Mix = z.infer<typeof MixSchema>;

type MixFlavor = z.infer<typeof FlavorMix>;

/** The default flavor mix (see the header for the source and what is ours). */
export const AZURE_LIKE_FLAVORS: ReadonlyArray<{ weight: number; flavor: MixFlavor }> = [
  { weight: 15, flavor: { name: 'a1.tiny', vcpus: 1, memory_mb: 768, root_gb: 10 } },
  { weight: 30, flavor: { name: 'a1.small', vcpus: 1, memory_mb: 1792, root_gb: 20 } },
  { weight: 30, flavor: { name: 'a2.medium', vcpus: 2, memory_mb: 3584, root_gb: 40 } },
  { weight: 15, flavor: { name: 'a4.large', vcpus: 4, memory_mb: 7168, root_gb: 80 } },
  { weight: 7, flavor: { name: 'a8.xlarge', vcpus: 8, memory_mb: 14336, root_gb: 160 } },
  { weight: 3, flavor: { name: 'a16.2xlarge', vcpus: 16, memory_mb: 28672, root_gb: 320 } },
];
const DEFAULT_LIFETIME = { median_s: 7200, sigma: 2, max_s: 30 * 86400 };
const DEFAULT_RATE_PER_HOUR = 60;
const DEFAULT_DEPLOYMENTS = { share: 0.1, min: 2, max: 4 };
const MIN_LIFETIME_S = 60;

/** Parses a mix file's text, naming the field at fault. */
export const parseMix = (text: string, file = 'mix'): Mix => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SimulationInputError(file, `is not JSON (${(e as Error).message})`);
  }
  try {
    return parseWith(MixSchema, raw, 'mix');
  } catch (e) {
    throw new SimulationInputError(file, (e as Error).message);
  }
};

/** One line of the generated trace (CONTRACT.md "Simulation" event shape). */
export type GeneratedEvent =
  | {
      t: number;
      op: 'create';
      id: string;
      flavor: MixFlavor;
      num_instances?: number;
      group?: string;
      group_policy?: 'anti-affinity';
    }
  | { t: number; op: 'delete'; id: string };

/** A standard normal draw (Box–Muller). */
const gaussian = (rnd: () => number): number => {
  const u = 1 - rnd();
  const v = rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
};

/**
 * `count` create requests and the deletes that fall before the last arrival
 * (instances still alive then have none), in time order, t in seconds from 0.
 */
export const generateTrace = (count: number, seed: number, mix: Mix = {}): GeneratedEvent[] => {
  const rnd = seededRandom(seed);
  const flavors = mix.flavors ?? AZURE_LIKE_FLAVORS;
  const totalWeight = flavors.reduce((s, f) => s + f.weight, 0);
  const life = { ...DEFAULT_LIFETIME, ...mix.lifetime };
  const rate = (mix.rate_per_hour ?? DEFAULT_RATE_PER_HOUR) / 3600;
  const dep = mix.deployments ?? DEFAULT_DEPLOYMENTS;
  const pickFlavor = (): MixFlavor => {
    let x = rnd() * totalWeight;
    for (const f of flavors) {
      x -= f.weight;
      if (x < 0) return f.flavor;
    }
    return (flavors[flavors.length - 1] as (typeof flavors)[number]).flavor;
  };
  const width = String(count).length;
  const creates: GeneratedEvent[] = [];
  const deletes: GeneratedEvent[] = [];
  let t = 0;
  let groups = 0;
  for (let i = 0; i < count; i++) {
    // Exponential inter-arrival times; rounded to ms so lines stay short.
    t += -Math.log(1 - rnd()) / rate;
    const at = Math.round(t * 1000) / 1000;
    const id = `vm-${String(i + 1).padStart(width, '0')}`;
    const flavor = pickFlavor();
    const lifetime = Math.min(
      life.max_s,
      Math.max(MIN_LIFETIME_S, life.median_s * Math.exp(life.sigma * gaussian(rnd))),
    );
    const gone = Math.round((at + lifetime) * 1000) / 1000;
    if (dep.share > 0 && rnd() < dep.share) {
      const k = dep.min + Math.floor(rnd() * (dep.max - dep.min + 1));
      creates.push({
        t: at,
        op: 'create',
        id,
        flavor,
        num_instances: k,
        group: `g-${++groups}`,
        group_policy: 'anti-affinity',
      });
      for (let j = 1; j <= k; j++) deletes.push({ t: gone, op: 'delete', id: `${id}-${j}` });
    } else {
      creates.push({ t: at, op: 'create', id, flavor });
      deletes.push({ t: gone, op: 'delete', id });
    }
  }
  // Merge by time; a delete at the very time of a create goes after it (stable on creates first).
  const events = [...creates, ...deletes.filter((d) => d.t <= t)];
  return events
    .map((e, k) => ({ e, k }))
    .sort((a, b) => a.e.t - b.e.t || a.k - b.k)
    .map(({ e }) => e);
};
