/** Structured JSON logs with fixed fields; never tensor data or secrets. */
export function log(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, component: "gpu-function", at: new Date().toISOString(), ...fields });
  (level === "info" ? process.stdout : process.stderr).write(line + "\n");
}
