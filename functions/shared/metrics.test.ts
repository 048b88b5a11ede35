import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QmError } from '../../core/errors';
import { countNotification, eventTypeDimension, metrics, observeSchedule, topFilter } from './metrics';

/** The EMF objects Powertools prints, one per line (it writes with its own console on stdout). */
let lines: Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][] }> } }> = [];
beforeEach(() => {
  lines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const l of String(chunk).split('\n')) if (l.includes('"_aws"')) lines.push(JSON.parse(l));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

describe('topFilter', () => {
  it('names the filter that rejected the most hosts, the first in filter order on a tie', () => {
    expect(topFilter({ ComputeFilter: 2, RamFilter: 7, CoreFilter: 7 })).toBe('RamFilter');
    expect(topFilter({ ComputeFilter: 3, RamFilter: 3 })).toBe('ComputeFilter');
  });
  it('says NoHosts when no host was there to reject', () => {
    expect(topFilter({})).toBe('NoHosts');
  });
});

describe('eventTypeDimension', () => {
  it('spells legacy and versioned event types alike, so both share a series', () => {
    expect(eventTypeDimension('compute.instance.delete.end')).toBe('instance.delete.end');
    expect(eventTypeDimension('instance.delete.end')).toBe('instance.delete.end');
    expect(eventTypeDimension('capacity.utilization.update')).toBe('capacity.utilization.update');
  });
  it('folds other actions into their phase: a sender cannot mint a new series per action', () => {
    expect(eventTypeDimension('compute.instance.power_off.start')).toBe('instance.*.start');
    expect(eventTypeDimension('instance.made_up_action.end')).toBe('instance.*.end');
    expect(eventTypeDimension('something.else')).toBe('other');
  });
});

describe('the EMF lines', () => {
  it('count a NoValidHost once without a filter (for the rate alarm) and once under its top filter', async () => {
    const nvh = new QmError(409, 'NoValidHost', 'No valid host was found.', {
      decision_id: 'd-1',
      filter_counts: { ComputeFilter: 1, RamFilter: 2 },
    });
    let t = 1000;
    await expect(
      observeSchedule(
        async () => {
          t += 42;
          throw nvh;
        },
        5,
        () => t,
      ),
    ).rejects.toBe(nvh);
    metrics.publishStoredMetrics();
    const byFilter = lines.find((l) => l._aws.CloudWatchMetrics[0]?.Dimensions[0]?.includes('filter'));
    expect(byFilter).toMatchObject({ NoValidHost: 1, filter: 'RamFilter', service: 'quartermaster' });
    const main = lines.find((l) => 'ScheduleLatency' in l);
    expect(main).toMatchObject({ ScheduleLatency: 42, NoValidHost: 1, ClaimConflicts: 0 });
    expect(main?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'stage']]);
  });

  it('count a schedule that lost every claim race under LostClaimRaces, with every attempt a conflict', async () => {
    const nvh = new QmError(409, 'NoValidHost', 'No valid host was found.', {
      filter_counts: {},
      lost_claims_on: ['h1', 'h1', 'h1'],
    });
    await expect(observeSchedule(() => Promise.reject(nvh), 3)).rejects.toBe(nvh);
    metrics.publishStoredMetrics();
    expect(lines.find((l) => 'filter' in l)).toMatchObject({ filter: 'LostClaimRaces' });
    expect(lines.find((l) => 'ScheduleLatency' in l)).toMatchObject({ ClaimConflicts: 3 });
  });

  it('count nothing for an error that is no schedule (a 503)', async () => {
    const down = new QmError(503, 'StoreUnavailable', 'the store cannot be reached');
    await expect(observeSchedule(() => Promise.reject(down), 5)).rejects.toBe(down);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it('count a notification under its event type, and a parked one under its reason', () => {
    countNotification({ outcome: 'duplicate', eventType: 'compute.instance.create.end' });
    countNotification({ outcome: 'dead_lettered', reason: 'UnknownHost' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ NotificationsDuplicate: 1, event_type: 'instance.create.end' });
    expect(lines[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'stage', 'event_type']]);
    expect(lines[1]).toMatchObject({ NotificationsDeadLettered: 1, reason: 'UnknownHost' });
  });
});
