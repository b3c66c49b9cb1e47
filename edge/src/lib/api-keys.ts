import type { ApiKey, Scope } from "@ecomid/shared/api";
import { sha256Hex } from "@ecomid/shared/crypto";
import { newId } from "./ids.js";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `ek_live_` + 32 random alphanumerics (~190 bits). Only the SHA-256 is stored: high-entropy keys need no slow hash. */
export function generateApiKey(environment: string): string {
  const kind = environment === "production" ? "live" : "test";
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `ek_${kind}_${Array.from(bytes, (b) => ALPHANUMERIC[b % 62]).join("")}`;
}

export interface KeyRow {
  id: string;
  owner_id: string;
  name: string;
  prefix: string;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

export function presentKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    object: "api_key",
    owner_id: row.owner_id,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as Scope[],
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}

export async function newKeyRecord(environment: string, ownerId: string, name: string, scopes: Scope[]) {
  const key = generateApiKey(environment);
  const row: KeyRow = {
    id: newId("key"),
    owner_id: ownerId,
    name,
    prefix: key.slice(0, 12),
    scopes: JSON.stringify(scopes),
    created_at: new Date().toISOString(),
    revoked_at: null,
  };
  return { key, row, hash: await sha256Hex(key) };
}
