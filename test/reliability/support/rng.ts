/**
 * A small seeded PRNG (mulberry32): the reliability suites draw every random choice
 * (kill points, injected webhook failures) from one, so a failing run can be repeated
 * with the seed it printed.
 */
export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One of the items, weighted by its weight. */
  pick<T>(choices: ReadonlyArray<readonly [T, number]>): T;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    between: (min, max) => min + (max - min) * next(),
    chance: (p) => next() < p,
    pick(choices) {
      const total = choices.reduce((sum, [, w]) => sum + w, 0);
      let r = next() * total;
      for (const [value, weight] of choices) {
        if ((r -= weight) < 0) return value;
      }
      return choices.at(-1)![0];
    },
  };
}

/** The seed from `envName` when set (to repeat a run), else a fresh one; printed either way. */
export function seedFromEnv(envName: string, label: string): number {
  const given = process.env[envName];
  const seed = given !== undefined && given !== "" ? Number(given) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`${envName} must be a non-negative integer, not ${given}`);
  console.log(`${label}: seed ${seed} (repeat with ${envName}=${seed})`);
  return seed;
}
