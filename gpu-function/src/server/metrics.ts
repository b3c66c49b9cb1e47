/** A few Prometheus counters, gauges and histograms, rendered in the text exposition format. */
export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  private readonly histograms = new Map<string, { sum: number; count: number; buckets: number[] }>();
  private static readonly BOUNDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    const key = Metrics.key(name, labels);
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  set(name: string, value: number, labels: Record<string, string> = {}): void {
    this.gauges.set(Metrics.key(name, labels), value);
  }

  observe(name: string, seconds: number, labels: Record<string, string> = {}): void {
    const key = Metrics.key(name, labels);
    const h = this.histograms.get(key) ?? { sum: 0, count: 0, buckets: Metrics.BOUNDS.map(() => 0) };
    h.sum += seconds;
    h.count += 1;
    Metrics.BOUNDS.forEach((b, i) => {
      if (seconds <= b) h.buckets[i]! += 1;
    });
    this.histograms.set(key, h);
  }

  render(): string {
    const lines: string[] = [];
    for (const [k, v] of this.counters) lines.push(`${k} ${v}`);
    for (const [k, v] of this.gauges) lines.push(`${k} ${v}`);
    for (const [k, h] of this.histograms) {
      const [name, labels] = Metrics.split(k);
      Metrics.BOUNDS.forEach((b, i) => lines.push(`${name}_bucket{${labels}${labels ? "," : ""}le="${b}"} ${h.buckets[i]}`));
      lines.push(`${name}_bucket{${labels}${labels ? "," : ""}le="+Inf"} ${h.count}`);
      lines.push(`${name}_sum${labels ? `{${labels}}` : ""} ${h.sum}`);
      lines.push(`${name}_count${labels ? `{${labels}}` : ""} ${h.count}`);
    }
    return lines.join("\n") + "\n";
  }

  private static key(name: string, labels: Record<string, string>): string {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
      .join(",");
    return l ? `${name}{${l}}` : name;
  }

  private static split(key: string): [string, string] {
    const i = key.indexOf("{");
    return i < 0 ? [key, ""] : [key.slice(0, i), key.slice(i + 1, -1)];
  }
}
