import { describe, expect, it } from 'vitest';
import { fmtAge, fmtGb, fmtMb, fragmentOf, parseFragment } from './format';

describe('fmtMb and fmtGb', () => {
  it('keep the small unit below 1024 and switch to the binary larger one from 1024 on', () => {
    expect(fmtMb(512)).toBe('512 MB');
    // 1536 MB ÷ 1024 = 1.5 GiB; 65,536 MB ÷ 1024 = 64 GiB.
    expect(fmtMb(1536)).toBe('1.5 GiB');
    expect(fmtMb(65_536)).toBe('64 GiB');
    expect(fmtGb(900)).toBe('900 GB');
    expect(fmtGb(2048)).toBe('2 TiB');
    expect(fmtMb(-2048)).toBe('-2 GiB');
  });
});

describe('fmtAge', () => {
  it('words an age in the largest unit below its threshold and "—" for a time it cannot read', () => {
    const now = Date.parse('2024-01-01T01:00:00Z');
    expect(fmtAge('2024-01-01T00:59:48Z', now)).toBe('12 s ago');
    expect(fmtAge('2024-01-01T00:57:00Z', now)).toBe('3 min ago');
    expect(fmtAge('not a time', now)).toBe('—');
  });
});

describe('parseFragment and fragmentOf', () => {
  it('round-trip the fragment, leaving out empty values', () => {
    const f = fragmentOf({ decision: 'd 1', host: 'a&b', token: undefined });
    expect(f).toBe('#decision=d+1&host=a%26b');
    expect(parseFragment(f)).toEqual({ decision: 'd 1', host: 'a&b' });
    expect(fragmentOf({})).toBe('');
  });
});
