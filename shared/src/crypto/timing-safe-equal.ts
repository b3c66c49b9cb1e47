/**
 * Whether two secrets (strings by UTF-16 code unit, or bytes) are equal, looking at every
 * unit whatever the first mismatch, so the time taken reveals nothing of where they differ.
 * Only the length may show, and that is no secret for signatures and tokens of a fixed size.
 */
export function timingSafeEqual(a: string, b: string): boolean;
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
export function timingSafeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const unitAt = (v: string | Uint8Array, i: number) => (typeof v === "string" ? v.charCodeAt(i) : v[i]!);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= unitAt(a, i) ^ unitAt(b, i);
  return diff === 0;
}
