/** A seeded generator (mulberry32), so every fuzz case can be replayed from the printed seed. */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(entries: ReadonlyArray<readonly [number, T]>): T {
    const total = entries.reduce((s, [w]) => s + w, 0);
    let roll = this.next() * total;
    for (const [w, v] of entries) {
      roll -= w;
      if (roll < 0) return v;
    }
    return entries[entries.length - 1]![1];
  }

  /** A fresh generator for one case, so a case replays alone from (seed, index). */
  fork(index: number): Random {
    return new Random((Math.imul(this.seed ^ 0x9e3779b9, 31) + Math.imul(index, 0x85ebca6b)) >>> 0);
  }
}
