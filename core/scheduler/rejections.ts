/**
 * The rejections of one `schedule` call. The hot loop records, per rejected
 * host, only which step turned it down (a pre-filter, or the chain's filter
 * `f`) and in which pass, in typed arrays; the rejection as data (code and
 * figures) is asked of that one filter — `explain(host, state, pass)`, against
 * the same host state, prepared state and pass — when the decision's
 * rejections are first read. Fast path: building a rejection object for each
 * of thousands of rejected hosts inside the walk cost a 10k-host decision about
 * a fifth of its time (allocation and GC while the hot loop runs). A stored
 * decision still reads them all, once, after the scheduling (the bench's last
 * column); the what-if replay (core/simulate) reads only the picks and never
 * pays.
 *
 * When explaining later would read a state that has changed since the verdict
 * — a pick is about to be noted (`notePick`: the affinity filter's group hosts
 * grow) — the scheduler calls `settle(pass)` first, which explains that pass's
 * rejections at once. Hosts do not change under a rejection: a host rejected in
 * a pass is never a candidate again, so never consumed, and the caller's hosts
 * are never mutated.
 */
import type { FilterChain } from './filter-chain';
import { ComputeFilter } from './filters/compute-filter';
import type { HostRejection } from './summary';
import type { AnyFilter, HostState, PassContext, Reason } from './types';

/** A step before the filters (Nova's host manager), by its `PRE_…` number. */
const PRE_STEPS: readonly Readonly<{ filter: string; code: string }>[] = [
  { filter: '', code: '' },
  { filter: ComputeFilter.name, code: 'deleted' },
  { filter: 'ignore_hosts', code: 'ignored' },
  { filter: 'force_hosts', code: 'not_forced' },
];
/** A deleted node (ComputeFilter's, even when the filters are skipped). */
export const PRE_DELETED = 1;
/** A host named in ignore_hosts. */
export const PRE_IGNORED = 2;
/** A host not named in a non-empty force_hosts. */
export const PRE_NOT_FORCED = 3;
/** `step` of the chain's filter f is CHAIN + f. */
const CHAIN = PRE_STEPS.length;

/** A pre-filter's rejection has no figures: one frozen object for all. */
const NO_FIGURES = Object.freeze({});

/** Per fleet position, the first step that rejected the host; counted per step as recorded. */
export class RejectionLog {
  /** 0: not rejected (yet); PRE_…; CHAIN + f. */
  private readonly step: Int32Array;
  /** The pass of each chain rejection; absent when nothing settles (a one-pass request: all 0). */
  private readonly passOf: Int32Array | undefined;
  /** Chain rejections in the order found, so `settle` walks only its pass's. */
  private readonly order: Int32Array | undefined;
  private found = 0;
  /** Each pass's first entry in `order`. */
  private readonly passStart: number[] = [];
  /** Rejections explained early by `settle`, by fleet position. */
  private readonly settled = new Map<number, Reason>();
  /** Hosts rejected by each filter of the chain. */
  readonly chainCounts: Int32Array;
  /** Hosts rejected by each pre-filter step, by `PRE_…` number. */
  readonly preCounts = new Int32Array(CHAIN);

  /** `settles`: whether `settle` will be called (more than one pass, or eager rejections). */
  constructor(
    n: number,
    private readonly chain: FilterChain,
    settles: boolean,
  ) {
    this.step = new Int32Array(n);
    this.chainCounts = new Int32Array(chain.filters.length);
    if (settles) {
      this.passOf = new Int32Array(n);
      this.order = new Int32Array(n);
    }
  }

  /** Host `i` was turned down by pre-filter step `pre` (a PRE_… number). */
  pre(i: number, pre: number): void {
    this.step[i] = pre;
    this.preCounts[pre] = (this.preCounts[pre] as number) + 1;
  }

  /** Starts recording pass `k`. */
  startPass(k: number): void {
    this.passStart[k] = this.found;
  }

  /** Host `i` was turned down by the chain's filter `f` in pass `k`. */
  reject(i: number, f: number, k: number): void {
    this.step[i] = CHAIN + f;
    this.chainCounts[f] = (this.chainCounts[f] as number) + 1;
    if (this.order !== undefined && this.passOf !== undefined) {
      this.passOf[i] = k;
      this.order[this.found++] = i;
    }
  }

  /**
   * Explains pass `k`'s rejections now, while the filters' states are those
   * the verdicts were reached with: call it before anything changes them.
   */
  settle(k: number, hostAt: (i: number) => HostState, pass: PassContext): void {
    const order = this.order;
    if (order === undefined) return;
    const end = this.found;
    for (let r = this.passStart[k] ?? end; r < end; r++) {
      const i = order[r] as number;
      this.settled.set(i, this.explain(i, hostAt(i), pass));
    }
  }

  private explain(i: number, h: HostState, pass: PassContext): Reason {
    const f = (this.step[i] as number) - CHAIN;
    return (this.chain.filters[f] as AnyFilter).explain(h, this.chain.states[f], pass);
  }

  /**
   * Every rejected host once, in fleet order: `{ host, filter, code, figures,
   * instance_index }`, as the decision holds them.
   */
  list(hostAt: (i: number) => HostState, passes: readonly PassContext[]): HostRejection[] {
    const out: HostRejection[] = [];
    const { step, passOf, settled } = this;
    for (let i = 0; i < step.length; i++) {
      const st = step[i] as number;
      if (st === 0) continue;
      const h = hostAt(i);
      if (st < CHAIN) {
        const p = PRE_STEPS[st] as (typeof PRE_STEPS)[number];
        out.push({ host: h.host, filter: p.filter, code: p.code, figures: NO_FIGURES, instance_index: 0 });
        continue;
      }
      const k = passOf === undefined ? 0 : (passOf[i] as number);
      const { code, figures } = settled.get(i) ?? this.explain(i, h, passes[k] as PassContext);
      out.push({
        host: h.host,
        filter: (this.chain.filters[st - CHAIN] as AnyFilter).name,
        code,
        figures,
        instance_index: k,
      });
    }
    return out;
  }

  /** Pre-filter name → hosts it rejected (ComputeFilter: the deleted nodes). */
  preCountsByName(): Map<string, number> {
    const counts = new Map<string, number>();
    for (let p = 1; p < CHAIN; p++) {
      const c = this.preCounts[p] as number;
      if (c > 0) counts.set((PRE_STEPS[p] as (typeof PRE_STEPS)[number]).filter, c);
    }
    return counts;
  }
}
