/**
 * Redaction for log lines, shared by the edge and the GPU function: a backstop behind
 * "never log secrets", so a mistake in a log call does not leak a credential.
 */
export const REDACTED = "[redacted]";

// Field names whose values are credentials whatever they look like.
const SECRET_FIELD = /(authorization|api[_-]?key|^key$|secret|token|signature|password|passwd|cookie|^sig$|credential)/i;

// Credentials recognisable by shape, wherever they appear in a string (messages, stack traces, URLs).
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\bek_(live|test)_[A-Za-z0-9]{8,}/g, `ek_$1_${REDACTED}`],
  [/\bwhsec_[A-Za-z0-9+/=_-]{8,}/g, `whsec_${REDACTED}`],
  [/\b(Bearer)\s+[^\s",]+/gi, `$1 ${REDACTED}`],
  // Signed-URL and presigned-R2 query parameters: the URL minus these is still useful in a log.
  [/([?&](?:sig|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s"#]+/gi, `$1${REDACTED}`],
  [/\b(v1=)[0-9a-f]{16,}/gi, `$1${REDACTED}`],
];

export function redactText(text: string): string {
  return SECRET_PATTERNS.reduce((s, [pattern, replacement]) => s.replace(pattern, replacement), text);
}

/** A copy of `value` with secret-named fields replaced and secret-shaped substrings masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) return "[too deep]";
  if (value instanceof Error) return redactText(value.stack ?? value.message);
  if (typeof Headers !== "undefined" && value instanceof Headers) {
    const plain: Record<string, string> = {};
    value.forEach((v, k) => (plain[k] = v));
    return redact(plain, depth + 1);
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_FIELD.test(k) && v !== null && v !== undefined && v !== "" ? REDACTED : redact(v, depth + 1);
  }
  return out;
}
