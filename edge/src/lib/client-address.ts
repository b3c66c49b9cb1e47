import { parseIpv4, parseIpv6 } from "./ssrf.js";

/** Every client without a trusted address shares this one bucket. */
export const UNKNOWN_CLIENT = "unknown";

/**
 * The key a client's public rate limit is counted under, from the header the platform
 * in front of the worker sets (CLIENT_ADDRESS_HEADER: `cf-connecting-ip` on
 * Cloudflare, which overwrites whatever a client sent), or UNKNOWN_CLIENT when the
 * deployment names none: a header a client can set itself is no address. An IPv6
 * client is counted by its /64, the block one subscriber is given, so the addresses
 * inside it are one client.
 */
export function clientKey(headers: Headers, trustedHeader: string): string {
  if (!trustedHeader) return UNKNOWN_CLIENT;
  const value = headers.get(trustedHeader)?.trim() ?? "";
  if (parseIpv4(value) !== null) return value;
  const groups = value.includes(":") ? parseIpv6(value) : null;
  if (!groups) return UNKNOWN_CLIENT;
  // An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 client, not the /64 all of them share.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".");
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}
