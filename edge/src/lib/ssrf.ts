import type { Config } from "../config/config.js";
import { AppError } from "../errors.js";

/**
 * The outbound-request guard: every fetch this worker makes to a URL a customer
 * gave (reference images, webhooks) goes through guardedFetch, which refuses
 * anything that could reach a private, loopback, link-local or otherwise
 * non-public address, by the URL as written and by what its name resolves to.
 */

/** Answers the addresses (IPv4 dotted quads, IPv6 text) a hostname resolves to; none when it does not exist. */
export type HostResolver = (hostname: string, signal?: AbortSignal) => Promise<string[]>;

export const DEFAULT_DNS_RESOLVER_URL = "https://cloudflare-dns.com/dns-query";

export interface OutboundPolicy {
  /** Local development only: allow http:// and https:// to loopback hosts. */
  allowLoopback: boolean;
  /** DNS-over-HTTPS JSON endpoint used to resolve hostnames; the default resolver uses it. */
  dnsResolverUrl?: string;
  /** Replaces DNS-over-HTTPS (tests feed answers through this). */
  resolve?: HostResolver;
}

/** The policy a caller should use: the configured DNS resolver and the local-loopback switch. */
export function outboundPolicy(config: Pick<Config, "allowLoopbackHttp" | "dnsResolverUrl">): OutboundPolicy {
  return { allowLoopback: config.allowLoopbackHttp, dnsResolverUrl: config.dnsResolverUrl };
}

// ---------------------------------------------------------------- addresses

type AddressClass = "public" | "loopback" | "blocked";

/** IPv4 special-purpose ranges (RFC 6890 and its registry); none is reachable as a public service. */
const BLOCKED_V4: ReadonlyArray<readonly [number, number]> = [
  [0x00000000, 8], // "this" network, 0.0.0.0
  [0x0a000000, 8], // private
  [0x64400000, 10], // carrier-grade NAT
  [0xa9fe0000, 16], // link-local, cloud metadata (169.254.169.254)
  [0xac100000, 12], // private
  [0xc0000000, 24], // IETF protocol assignments
  [0xc0000200, 24], // TEST-NET-1
  [0xc0586300, 24], // 6to4 relay anycast
  [0xc0a80000, 16], // private
  [0xc6120000, 15], // benchmarking
  [0xc6336400, 24], // TEST-NET-2
  [0xcb007100, 24], // TEST-NET-3
  [0xe0000000, 3], // multicast, reserved and broadcast: 224.0.0.0 and up
];

/** Dotted-quad IPv4 only: the URL parser already turns decimal, octal and hex forms into this. */
export function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function classifyV4(ip: number): AddressClass {
  if (ip >>> 24 === 127) return "loopback";
  return BLOCKED_V4.some(([base, bits]) => ip >>> (32 - bits) === base >>> (32 - bits)) ? "blocked" : "public";
}

/** IPv6 text (no brackets, no zone) to its eight 16-bit groups; an embedded dotted quad at the end is accepted. */
export function parseIpv6(text: string): number[] | null {
  let s = text.toLowerCase();
  if (s.includes("%")) return null;
  const tail: number[] = [];
  const quad = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (quad) {
    const v4 = parseIpv4(quad[2]!);
    if (v4 === null) return null;
    tail.push(v4 >>> 16, v4 & 0xffff);
    s = quad[1]!.endsWith("::") ? quad[1]! : quad[1]!.slice(0, -1);
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const written = head.length + rest.length + tail.length;
  if (halves.length === 1 ? written !== 8 : written > 7) return null;
  const zeros = new Array<number>(8 - written).fill(0);
  return [...head.map((g) => parseInt(g, 16)), ...zeros, ...rest.map((g) => parseInt(g, 16)), ...tail];
}

function inPrefix(g: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((g[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}

/** Prefixes inside global unicast (2000::/3) that still never name a public service. */
const BLOCKED_V6: ReadonlyArray<readonly [number[], number]> = [
  [[0x2001, 0x0000], 23], // IETF protocol assignments, Teredo included (its tunnel can reach anything)
  [[0x2001, 0x0db8], 32], // documentation
  [[0x3fff, 0x0000], 20], // documentation
];

function classifyV6(g: number[]): AddressClass {
  const v4Of = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) is judged as the IPv4 address it carries; a mapped loopback is no
  // spelling local development uses, so it is refused even where loopback is allowed.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return classifyV4(v4Of(g[6]!, g[7]!)) === "public" ? "public" : "blocked";
  // 6to4 (2002::/16) tunnels to the IPv4 address in bits 16..47.
  if (g[0] === 0x2002) return classifyV4(v4Of(g[1]!, g[2]!)) === "public" ? "public" : "blocked";
  // Only global unicast; this refuses ::, IPv4-compatible, NAT64 (64:ff9b::/96, which can reach private IPv4),
  // discard-only, unique local (fc00::/7), link-local (fe80::/10), site-local and multicast.
  if ((g[0]! & 0xe000) !== 0x2000) return "blocked";
  return BLOCKED_V6.some(([prefix, bits]) => inPrefix(g, prefix, bits)) ? "blocked" : "public";
}

/** What an address (IPv4 dotted quad or IPv6 text, brackets allowed) is; unparsable text is refused. */
export function classifyAddress(address: string): AddressClass {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const v4 = parseIpv4(bare);
  if (v4 !== null) return classifyV4(v4);
  const v6 = parseIpv6(bare);
  return v6 ? classifyV6(v6) : "blocked";
}

// ---------------------------------------------------------------- URLs

function isLoopbackName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost");
}

function isIpLiteral(host: string): boolean {
  return parseIpv4(host) !== null || (host.startsWith("[") && host.endsWith("]"));
}

// Single-label names and special-use domains (RFC 6761, RFC 6762, RFC 8375) never name a public host.
const SPECIAL_USE_SUFFIX = /\.(internal|local|localdomain|home\.arpa|invalid|test|example|onion|intranet|lan|corp)$/;

/**
 * The synchronous part of the guard: the URL as written. Refuses non-https schemes,
 * credentials, IP literals that are not public (in every spelling the URL parser
 * accepts: it rewrites decimal, octal and hex IPv4 and compresses IPv6), and names
 * that can only be local. Hostnames still need resolveAndCheck before a fetch.
 */
export function assertOutboundUrl(raw: string, policy: OutboundPolicy, field = "url"): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("url_not_allowed", `${field} is not a valid URL`);
  }
  const host = url.hostname.toLowerCase();
  if (url.username || url.password) throw new AppError("url_not_allowed", `${field} must not contain credentials`);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new AppError("url_not_allowed", `${field} must use https`);
  const literal = isIpLiteral(host);
  const loopback = isLoopbackName(host) || (literal && classifyAddress(host) === "loopback");
  if (loopback) {
    if (!policy.allowLoopback) throw new AppError("url_not_allowed", `${field} points at a loopback address`);
    return url;
  }
  if (url.protocol !== "https:") throw new AppError("url_not_allowed", `${field} must use https`);
  if (literal) {
    if (classifyAddress(host) !== "public") throw new AppError("url_not_allowed", `${field} points at a private or reserved address`);
    return url;
  }
  if (!host.includes(".") || SPECIAL_USE_SUFFIX.test(host) || host.endsWith(".")) {
    throw new AppError("url_not_allowed", `${field} must name a public host`);
  }
  return url;
}

/**
 * The DNS part of the guard: every A and AAAA answer for the URL's hostname must be
 * public (loopback too in local development). Any private answer refuses the whole
 * name, so a name with one public and one internal address cannot be played.
 */
export async function resolveAndCheck(url: URL, policy: OutboundPolicy, field = "url", signal?: AbortSignal): Promise<void> {
  const host = url.hostname.toLowerCase();
  if (isIpLiteral(host) || isLoopbackName(host)) return; // judged as written by assertOutboundUrl
  const resolve = policy.resolve ?? dohResolver(policy.dnsResolverUrl ?? DEFAULT_DNS_RESOLVER_URL);
  let addresses: string[];
  try {
    addresses = await resolve(host, signal);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError("input_fetch_failed", `could not resolve ${host}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (addresses.length === 0) throw new AppError("input_fetch_failed", `${field}'s host ${host} does not resolve`);
  for (const address of addresses) {
    const kind = classifyAddress(address);
    if (kind === "public" || (kind === "loopback" && policy.allowLoopback)) continue;
    throw new AppError("url_not_allowed", `${field}'s host ${host} resolves to a private or reserved address`);
  }
}

const DNS_TYPE_A = 1;
const DNS_TYPE_AAAA = 28;
const DNS_NXDOMAIN = 3;

interface DohAnswer {
  Status?: number;
  Answer?: Array<{ type?: number; data?: string }>;
}

/** Resolves A and AAAA through a DNS-over-HTTPS JSON endpoint (Cloudflare's and Google's speak it). */
export function dohResolver(endpoint: string, fetcher: typeof fetch = (input, init) => fetch(input, init)): HostResolver {
  const query = async (name: string, type: "A" | "AAAA", signal?: AbortSignal): Promise<string[]> => {
    const url = new URL(endpoint);
    url.searchParams.set("name", name);
    url.searchParams.set("type", type);
    const response = await fetcher(url.toString(), { headers: { accept: "application/dns-json" }, ...(signal ? { signal } : {}) });
    if (!response.ok) throw new Error(`the DNS resolver answered HTTP ${response.status}`);
    const answer = JSON.parse(new TextDecoder().decode(await readLimited(response, 64 * 1024))) as DohAnswer;
    if (answer.Status === DNS_NXDOMAIN) return [];
    if (answer.Status !== 0) throw new Error(`the DNS resolver answered status ${String(answer.Status)}`);
    const wanted = type === "A" ? DNS_TYPE_A : DNS_TYPE_AAAA;
    // CNAME records come along in the chain; only address records of the asked type count.
    return (answer.Answer ?? []).filter((r) => r.type === wanted && typeof r.data === "string").map((r) => r.data!);
  };
  return async (name, signal) => (await Promise.all([query(name, "A", signal), query(name, "AAAA", signal)])).flat();
}

// ---------------------------------------------------------------- fetch

export interface GuardedFetchOptions {
  policy: OutboundPolicy;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  init?: RequestInit;
  /** Only the status matters (webhook receivers): the body is not read, so no size of it fails the call. */
  discardBody?: boolean;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Never carried to another origin by a redirect.
const ORIGIN_BOUND_HEADERS = ["authorization", "cookie", "proxy-authorization"];

/**
 * fetch() with the guard on every hop: redirects are followed by hand (at most
 * maxRedirects), each target checked for scheme, host and DNS answers; one time
 * limit covers DNS, every hop and the body; the body is cut off at maxBytes.
 */
export async function guardedFetch(raw: string, opts: GuardedFetchOptions): Promise<{ response: Response; body: Uint8Array }> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let url = assertOutboundUrl(raw, opts.policy);
  let init: RequestInit = { ...opts.init };
  for (let hop = 0; ; hop++) {
    await resolveAndCheck(url, opts.policy, hop === 0 ? "url" : "redirect target", signal);
    const response = await fetch(url.toString(), { ...init, redirect: "manual", signal });
    const location = response.headers.get("location");
    if (!REDIRECT_STATUSES.has(response.status) || !location) {
      if (opts.discardBody) {
        await response.body?.cancel();
        return { response, body: new Uint8Array() };
      }
      return { response, body: await readLimited(response, opts.maxBytes, signal) };
    }
    await response.body?.cancel();
    if (hop >= opts.maxRedirects) throw new AppError("input_fetch_failed", "too many redirects");
    const next = assertOutboundUrl(new URL(location, url).toString(), opts.policy, "redirect target");
    init = redirectedInit(init, response.status, next.origin !== url.origin);
    url = next;
  }
}

function redirectedInit(init: RequestInit, status: number, crossOrigin: boolean): RequestInit {
  const method = (init.method ?? "GET").toUpperCase();
  const next: RequestInit = { ...init, headers: new Headers(init.headers) };
  if (status === 303 && method !== "GET" && method !== "HEAD") {
    next.method = "GET";
    delete next.body;
  }
  if (crossOrigin) for (const name of ORIGIN_BOUND_HEADERS) (next.headers as Headers).delete(name);
  return next;
}

/** Reads a body up to maxBytes: a larger Content-Length is refused unread, a longer stream is cut off. */
export async function readLimited(response: Response, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new AppError("payload_too_large", `the body is larger than ${maxBytes} bytes`);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (signal?.aborted) throw new AppError("input_fetch_failed", "the transfer took too long");
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw new AppError("payload_too_large", `the body is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    signal?.removeEventListener("abort", stop);
  }
  if (signal?.aborted) throw new AppError("input_fetch_failed", "the transfer took too long");
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
