import { redact, redactText } from "@ecomid/shared/redact";

/** Structured JSON logs with fixed fields; never tensor data or secrets. */
export type LogLevel = "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;
export type Logger = (level: LogLevel, msg: string, fields?: LogFields) => void;

export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  // Signed URLs and tokens are redacted as a backstop (shared with the edge).
  const line = JSON.stringify({
    level,
    msg: redactText(msg),
    component: "gpu-function",
    at: new Date().toISOString(),
    ...(redact(fields) as LogFields),
  });
  (level === "info" ? process.stdout : process.stderr).write(line + "\n");
}

/**
 * A logger whose every line carries `bound`: a job's `job_id`, `request_id` (the edge's
 * x-request-id, so one search finds a request across edge and GPU logs) and `attempt`.
 */
export function boundLog(bound: LogFields): Logger {
  return (level, msg, fields = {}) => log(level, msg, { ...bound, ...fields });
}
