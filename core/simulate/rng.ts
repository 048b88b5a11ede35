/**
 * mulberry32 (Tommy Ettinger's 32-bit generator, public domain): a seeded,
 * reproducible source of uniform numbers in [0, 1). The simulator and the trace
 * generator take it instead of Math.random so that a seed fixes every draw.
 */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};
