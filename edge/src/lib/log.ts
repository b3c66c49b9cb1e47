import { redact, redactText } from "@ecomid/shared/redact";

export { redact, redactText, REDACTED } from "@ecomid/shared/redact";

/** Structured JSON logs with fixed fields; never pass image data. Secrets are redacted here as a backstop. */
export function log(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({
    level,
    msg: redactText(msg),
    component: "edge",
    at: new Date().toISOString(),
    ...(redact(fields) as Record<string, unknown>),
  });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
