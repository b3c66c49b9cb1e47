import { createHash, createHmac } from "node:crypto";
import type { Json } from "./client.js";

/**
 * A /files/ URL signed the way edge/src/lib/signed-urls.ts signs them. Restated, not
 * imported: that module's types pull the whole worker into a Node program. A drift
 * shows at once: the probe's first GET must answer 200.
 */
function signFileUrl(
  baseUrl: string,
  secret: string,
  grant: { method: "GET" | "PUT"; key: string; expiresAt: number; maxBytes?: number; contentType?: string },
): string {
  const url = new URL(`${baseUrl}/files/${grant.key.split("/").map(encodeURIComponent).join("/")}`);
  url.searchParams.set("method", grant.method);
  url.searchParams.set("exp", String(grant.expiresAt));
  if (grant.maxBytes !== undefined) url.searchParams.set("max", String(grant.maxBytes));
  if (grant.contentType !== undefined) url.searchParams.set("ct", grant.contentType);
  const canonical = [grant.method, grant.key, grant.expiresAt, grant.maxBytes ?? "", grant.contentType ?? ""].join("\n");
  url.searchParams.set("sig", createHmac("sha256", secret).update(canonical).digest("hex"));
  return url.toString();
}

/** The R2 key behind a worker-signed /files/ URL (as the job API returns them locally). */
export function keyOfFileUrl(url: string): string {
  return new URL(url).pathname
    .replace(/^\/files\//, "")
    .split("/")
    .map(decodeURIComponent)
    .join("/");
}

export const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export interface WriteOnceProbe {
  key: string;
  /** A different body PUT to the written key: refused (status and problem code), the stored bytes unchanged. */
  overwrite: { status: number; contentType: string | null; code: unknown; unchanged: boolean };
  /** The same body again: accepted as a replay (the uploader's retry after a lost answer). */
  replay: { status: number };
}

/**
 * Tries to overwrite `key` through a PUT URL signed like the edge signs the GPU
 * function's (the stack runs with a signing secret the suite chose), first with
 * `other` bytes, then with the bytes already there.
 */
export async function probeWriteOnce(
  edgeUrl: string,
  signingSecret: string,
  key: string,
  contentType: string,
  other: Uint8Array,
): Promise<WriteOnceProbe> {
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  const put = signFileUrl(edgeUrl, signingSecret, { method: "PUT", key, expiresAt, maxBytes: 40 * 1024 * 1024, contentType });
  const get = signFileUrl(edgeUrl, signingSecret, { method: "GET", key, expiresAt });
  const read = async () => {
    const r = await fetch(get);
    if (r.status !== 200)
      throw new Error(
        `GET of ${key} through a suite-signed URL gave ${r.status}: is the signing scheme still edge/src/lib/signed-urls.ts's?`,
      );
    return new Uint8Array(await r.arrayBuffer());
  };
  const before = await read();
  const send = (bytes: Uint8Array) => fetch(put, { method: "PUT", headers: { "content-type": contentType }, body: new Uint8Array(bytes) });
  const refused = await send(other);
  const problem = (await refused.json().catch(() => ({}))) as Json;
  const after = await read();
  const replay = await send(before);
  await replay.body?.cancel();
  return {
    key,
    overwrite: {
      status: refused.status,
      contentType: refused.headers.get("content-type"),
      code: problem.code,
      unchanged: sha256Hex(after) === sha256Hex(before),
    },
    replay: { status: replay.status },
  };
}
