import { AppError } from "../errors.js";

export interface OutboundPolicy {
  /** Local development only: allow http:// and https:// to loopback hosts. */
  allowLoopback: boolean;
}

const BLOCKED_V4: Array<[number, number]> = [
  [0x00000000, 8], // "this" network
  [0x0a000000, 8], // private
  [0x64400000, 10], // carrier-grade NAT
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local, cloud metadata
  [0xac100000, 12], // private
  [0xc0000000, 24], // IETF protocol assignments
  [0xc0a80000, 16], // private
  [0xc6120000, 15], // benchmarking
  [0xe0000000, 3], // multicast and reserved, 224.0.0.0 and up
];

function ipv4ToInt(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function isBlockedV4(ip: number): boolean {
  return BLOCKED_V4.some(([base, bits]) => (ip >>> (32 - bits)) === (base >>> (32 - bits)));
}

function isLoopbackHost(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost") || host === "[::1]") return true;
  const v4 = ipv4ToInt(host);
  return v4 !== null && v4 >>> 24 === 127;
}

/** IPv6 literals: everything but global unicast is refused; v4-mapped addresses are judged as v4. */
function isBlockedV6(bracketed: string): boolean {
  const h = bracketed.slice(1, -1).toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h) ?? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (mapped) return true; // no legitimate public service is addressed this way
  if (h === "::" || h === "::1") return true;
  const first = parseInt(h.split(":")[0] || "0", 16);
  if ((first & 0xfe00) === 0xfc00) return true; // unique local
  if ((first & 0xffc0) === 0xfe80) return true; // link-local
  if ((first & 0xff00) === 0xff00) return true; // multicast
  if (h.startsWith("64:ff9b:")) return true; // NAT64 can reach private v4
  return false;
}

/**
 * Refuses URLs an outbound fetch must never reach: non-https schemes, credentials,
 * loopback, private, link-local and metadata addresses. Names are checked as written;
 * a DNS name that resolves inside is caught by the platform (Workers cannot reach
 * private networks), which the production notes in README explain.
 */
export function assertOutboundUrl(raw: string, policy: OutboundPolicy, field = "url"): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("url_not_allowed", `${field} is not a valid URL`);
  }
  const host = url.hostname.toLowerCase();
  const loopback = isLoopbackHost(host);
  if (url.username || url.password) throw new AppError("url_not_allowed", `${field} must not contain credentials`);
  if (loopback) {
    if (!policy.allowLoopback) throw new AppError("url_not_allowed", `${field} points at a loopback address`);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new AppError("url_not_allowed", `${field} must use https`);
    return url;
  }
  if (url.protocol !== "https:") throw new AppError("url_not_allowed", `${field} must use https`);
  const v4 = ipv4ToInt(host);
  if (v4 !== null && isBlockedV4(v4)) throw new AppError("url_not_allowed", `${field} points at a private or reserved address`);
  if (host.startsWith("[") && isBlockedV6(host)) throw new AppError("url_not_allowed", `${field} points at a private or reserved address`);
  // Single-label names and special-use domains (RFC 6761, RFC 6762, RFC 8375) never name a public host.
  if (!host.includes(".") || /\.(internal|local|localdomain|home\.arpa|invalid|test|example|onion|intranet|lan|corp)$/.test(host)) {
    throw new AppError("url_not_allowed", `${field} must name a public host`);
  }
  return url;
}

export interface GuardedFetchOptions {
  policy: OutboundPolicy;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  init?: RequestInit;
}

/** fetch() with the URL guard applied to every hop, a time limit and a body-size limit. */
export async function guardedFetch(raw: string, opts: GuardedFetchOptions): Promise<{ response: Response; body: Uint8Array }> {
  let url = assertOutboundUrl(raw, opts.policy);
  const signal = AbortSignal.timeout(opts.timeoutMs);
  for (let hop = 0; ; hop++) {
    const response = await fetch(url.toString(), { ...opts.init, redirect: "manual", signal });
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= opts.maxRedirects) throw new AppError("input_fetch_failed", "too many redirects");
      url = assertOutboundUrl(new URL(location, url).toString(), opts.policy, "redirect target");
      continue;
    }
    return { response, body: await readLimited(response, opts.maxBytes) };
  }
}

export async function readLimited(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new AppError("payload_too_large", `the body is larger than ${maxBytes} bytes`);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new AppError("payload_too_large", `the body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
