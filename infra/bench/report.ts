import type { HostOverhead } from "./host-overhead.js";
import type { PipelineTiming } from "./pipeline-timing.js";
import type { ReferenceTiming } from "./reference-timing.js";

export const STAGES = ["decode", "faces", "identity", "keypoints", "text", "denoise", "vae", "encode", "similarity"] as const;
const PIPELINE_GOAL = 0.5; // issue 4: the TypeScript pipeline at most half the reference's time
const HOST_GOAL_MS = 2; // issue 4: host time per denoising step under 2 ms

const ms = (v: number | undefined) => (v === undefined ? "-" : v < 10 ? v.toFixed(2) : v.toFixed(1));
const pad = (cells: string[], widths: number[]) => cells.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");

/** Per-stage table of TS vs PyTorch for every sampler, with the ratio and whether the goal is met. */
export function pipelineReport(ts: PipelineTiming, ref: ReferenceTiming | null): string[] {
  const lines: string[] = [];
  const widths = [12, 10, 12, 10];
  for (const s of ts.samplers) {
    const r = ref?.samplers.find((x) => x.sampler === s.sampler);
    lines.push(`  sampler ${s.sampler}: median of ${s.runs} warm runs each` + (r ? "" : " (no PyTorch numbers)"));
    lines.push("    " + pad(["stage", "TS ms", "PyTorch ms", "TS/PyTorch"], widths));
    for (const stage of [...STAGES, "end-to-end"]) {
      const a = stage === "end-to-end" ? s.totalMs : s.stagesMs[stage];
      const b = stage === "end-to-end" ? r?.totalMs : r?.stagesMs[stage];
      // The pipeline rounds each stage to whole ms, so a 0 means under half a millisecond.
      const under = stage !== "end-to-end" && a !== undefined && a < 0.5;
      const tsCell = a === undefined ? "-" : under ? "<0.5" : ms(a);
      const ratio = a !== undefined && b ? (under ? "<" + (0.5 / b).toFixed(2) : (a / b).toFixed(2)) : "-";
      lines.push("    " + pad([stage, tsCell, ms(b), ratio], widths));
    }
    if (r) {
      const ratio = s.totalMs / r.totalMs;
      lines.push(
        `    goal TS <= ${PIPELINE_GOAL} x PyTorch end to end: ${ratio <= PIPELINE_GOAL ? "MET" : "NOT MET"} (${ratio.toFixed(2)}x)`,
      );
    }
    lines.push(
      `    output image vs the PyTorch reference image: TS max diff ${s.imageMaxDiff ?? "-"}/255` +
        (r ? `, PyTorch max diff ${r.imageMaxDiff ?? "-"}/255` : ""),
    );
  }
  return lines;
}

/** Per-evaluation host cost around the trivial graph, and whether it is under the goal. */
export function hostReport(h: HostOverhead): string[] {
  const widths = [16, 6, 10, 10, 10, 11];
  const lines = ["    " + pad(["sampler", "evals", "loop ms", "bare run", "host ms", "preview ms"], widths)];
  for (const s of h.samplers) {
    lines.push(
      "    " + pad([s.sampler, String(s.evaluations), ms(s.loopMs), ms(s.bareRunMs), ms(s.loopMs - s.bareRunMs), ms(s.previewMs)], widths),
    );
  }
  const worst = Math.max(...h.samplers.map((s) => s.loopMs - s.bareRunMs));
  const worstWithPreview = Math.max(...h.samplers.map((s) => s.loopMs - s.bareRunMs + s.previewMs));
  lines.push(
    `    goal host time < ${HOST_GOAL_MS} ms per step: ${worst < HOST_GOAL_MS ? "MET" : "NOT MET"} (worst ${ms(worst)} ms; ${ms(worstWithPreview)} ms if a preview were rendered every step; the service renders one at most twice a second)`,
  );
  return lines;
}
