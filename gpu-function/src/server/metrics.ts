/** Prometheus counters, gauges and histograms, rendered in the text exposition format (0.0.4). */
type Kind = "counter" | "gauge" | "histogram";
type Labels = Record<string, string>;

interface Family {
  kind: Kind;
  help: string;
}

/**
 * Every metric the GPU function exposes, with its type and help text. The autoscaler
 * (infra/k8s/hpa.yaml) and the runbook (infra/RUNBOOK.md) name these.
 */
export const METRICS = {
  gpu_jobs_accepted_total: { kind: "counter", help: "Jobs accepted from the edge (202)." },
  gpu_dispatch_refused_total: { kind: "counter", help: "Dispatches refused, by reason: busy (429), not_ready, draining (503)." },
  gpu_jobs_total: { kind: "counter", help: "Jobs finished here, by outcome: succeeded, failed (incl. handed back), canceled." },
  gpu_job_errors_total: { kind: "counter", help: "Failed jobs by error code (shared/src/errors.ts)." },
  gpu_callback_failures_total: { kind: "counter", help: "Callbacks the edge never answered after every retry, by callback type." },
  gpu_worker_restarts_total: { kind: "counter", help: "Times the inference child process died and was started again." },
  gpu_worker_stalls_total: {
    kind: "counter",
    help: "Times the inference process sent nothing for STALL_SECONDS during a job and was killed.",
  },
  gpu_job_seconds: { kind: "histogram", help: "Accept to outcome, by outcome." },
  gpu_job_queue_wait_seconds: {
    kind: "histogram",
    help: "Accept to inference start inside this GPU function (input download and any job ahead in the inference process).",
  },
  gpu_stage_seconds: {
    kind: "histogram",
    help: "Duration of each stage of a job (download, face analysis, encoders, denoise, decode, encode...).",
  },
  gpu_model_load_seconds: { kind: "gauge", help: "Time to open, verify and load the model bundle at start." },
  gpu_model_warmup_seconds: { kind: "gauge", help: "Time of the warm-up job after loading." },
  gpu_model_ready: { kind: "gauge", help: "1 when the model is loaded and jobs are accepted." },
  gpu_model_load_failed: { kind: "gauge", help: "1 when the bundle failed to load (see /health error)." },
  gpu_jobs_in_flight: { kind: "gauge", help: "Jobs accepted and not yet finished." },
  gpu_jobs_capacity: { kind: "gauge", help: "Jobs this GPU function runs at once (JOBS_PER_DEVICE)." },
  gpu_busy_ratio: { kind: "gauge", help: "in_flight / capacity: the autoscaling signal (1 = every slot busy)." },
  gpu_draining: { kind: "gauge", help: "1 after SIGTERM/SIGINT: no new jobs, the one in flight finishes or is handed back." },
} as const satisfies Record<string, Family>;
export type MetricName = keyof typeof METRICS;

export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  private readonly histograms = new Map<string, { sum: number; count: number; buckets: number[] }>();
  private static readonly BOUNDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

  constructor() {
    // Unlabelled series exist from the start, so dashboards and the autoscaler see 0, not "no data".
    for (const name of ["gpu_jobs_accepted_total", "gpu_worker_restarts_total", "gpu_worker_stalls_total"] as const) this.inc(name, {}, 0);
    for (const name of ["gpu_model_ready", "gpu_model_load_failed", "gpu_jobs_in_flight", "gpu_busy_ratio", "gpu_draining"] as const)
      this.set(name, 0);
  }

  inc(name: MetricName, labels: Labels = {}, by = 1): void {
    const key = Metrics.key(name, labels);
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  set(name: MetricName, value: number, labels: Labels = {}): void {
    this.gauges.set(Metrics.key(name, labels), value);
  }

  observe(name: MetricName, seconds: number, labels: Labels = {}): void {
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
    for (const [name, family] of Object.entries(METRICS) as Array<[MetricName, Family]>) {
      const samples =
        family.kind === "histogram"
          ? this.renderHistogram(name)
          : this.renderScalar(name, family.kind === "counter" ? this.counters : this.gauges);
      if (samples.length === 0) continue;
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.kind}`, ...samples);
    }
    return lines.join("\n") + "\n";
  }

  private renderScalar(name: string, series: Map<string, number>): string[] {
    return [...series].filter(([k]) => Metrics.split(k)[0] === name).map(([k, v]) => `${k} ${v}`);
  }

  private renderHistogram(name: string): string[] {
    const lines: string[] = [];
    for (const [k, h] of this.histograms) {
      const [family, labels] = Metrics.split(k);
      if (family !== name) continue;
      const sep = labels ? "," : "";
      Metrics.BOUNDS.forEach((b, i) => lines.push(`${name}_bucket{${labels}${sep}le="${b}"} ${h.buckets[i]}`));
      lines.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${h.count}`);
      lines.push(`${name}_sum${labels ? `{${labels}}` : ""} ${h.sum}`);
      lines.push(`${name}_count${labels ? `{${labels}}` : ""} ${h.count}`);
    }
    return lines;
  }

  private static key(name: string, labels: Labels): string {
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
