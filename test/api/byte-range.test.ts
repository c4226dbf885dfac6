import { describe, it, expect } from 'vitest';
import { parseByteRange } from '../../api/routes/evidence-range';

describe('parseByteRange (RFC 9110 §14.1.2, one range)', () => {
  it.each([
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=0-9', 10, { start: 0, end: 9 }],
    ['bytes=3-', 10, { start: 3, end: 9 }],
    ['bytes=5-100', 10, { start: 5, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-30', 10, { start: 0, end: 9 }],
    [' bytes=1-2 ', 10, { start: 1, end: 2 }],
  ] as const)('%s of %i bytes → %o', (h, size, want) => {
    expect(parseByteRange(h, size)).toEqual(want);
  });

  it.each([
    ['bytes=10-', 10],
    ['bytes=10-20', 10],
    ['bytes=-0', 10],
    ['bytes=0-', 0],
    ['bytes=-5', 0],
  ] as const)('%s of %i bytes → unsatisfiable', (h, size) => {
    expect(parseByteRange(h, size)).toBe('unsatisfiable');
  });

  it.each(['bytes=5-1', 'bytes=0-1,3-4', 'items=0-1', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=1-2-3', 'bytes 0-1', 'bytes=99999999999999999999-'])('%s → ignored (the whole file)', (h) => {
    expect(parseByteRange(h, 10)).toBeNull();
  });
});
