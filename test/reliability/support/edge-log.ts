import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The edge's structured log lines (edge/src/lib/log.ts) from a stack's edge.log, where
 * wrangler dev writes the worker's console output, possibly with a prefix of its own.
 */
export function edgeLogLines(stateDir: string, msg: string): Array<Record<string, unknown>> {
  const file = join(stateDir, "edge.log");
  if (!existsSync(file)) return [];
  const needle = `"msg":${JSON.stringify(msg)}`;
  const lines: Array<Record<string, unknown>> = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.includes(needle)) continue;
    const start = line.indexOf("{");
    const end = line.lastIndexOf("}");
    if (start < 0 || end < start) continue;
    try {
      lines.push(JSON.parse(line.slice(start, end + 1)) as Record<string, unknown>);
    } catch {
      // a line that only mentions the message, not one of the edge's own JSON lines
    }
  }
  return lines;
}
