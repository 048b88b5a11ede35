import { describe, expect, it } from 'vitest';
import { createLog, fields, formatLine } from './log';

const AT = new Date('2026-11-26T01:00:00.750Z');

describe('the agent log', () => {
  it('writes text as the stamp to the second, the event, then key=value with undefined left out', () => {
    expect(formatLine('text', AT, 'report', { host: 'hv-1', seq: 5, reason: undefined, status: 200 })).toBe(
      '2026-11-26T01:00:00Z report host=hv-1 seq=5 status=200',
    );
    expect(formatLine('text', AT, 'stop')).toBe('2026-11-26T01:00:00Z stop');
  });

  it('JSON-quotes a text value with a space, a quote or =', () => {
    expect(fields({ error: 'Unauthorized: bad token', q: 'say "hi"', eq: 'a=b', plain: 'ECONNREFUSED' })).toBe(
      'error="Unauthorized: bad token" q="say \\"hi\\"" eq="a=b" plain=ECONNREFUSED',
    );
  });

  it('writes json as one object a line with the same fields, numbers as numbers', () => {
    const line = formatLine('json', AT, 'report', { host: 'hv-1', seq: 5, reason: undefined, error: 'a b' });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      time: '2026-11-26T01:00:00Z',
      msg: 'report',
      host: 'hv-1',
      seq: 5,
      error: 'a b',
    });
  });

  it('stamps each line with its clock and hands it to its writer', () => {
    const lines: string[] = [];
    let now = AT;
    const log = createLog({ format: 'json', write: (l) => lines.push(l), now: () => now });
    log('start', { host: 'hv-1' });
    now = new Date('2026-11-26T01:00:09Z');
    log('stop', { host: 'hv-1' });
    expect(lines.map((l) => JSON.parse(l).time)).toEqual(['2026-11-26T01:00:00Z', '2026-11-26T01:00:09Z']);
  });
});
