/**
 * API keys in the local database: create, list, revoke.
 *   npm run keys -- create --owner acme [--scopes jobs:read,jobs:write] [--name laptop]
 *   npm run keys -- list [--owner acme]
 *   npm run keys -- revoke key_...
 * (Against a deployed edge, use the admin endpoints: POST /v1/admin/keys ...)
 */
import { parseArgs } from "node:util";
import { CreateKeyRequest } from "@ecomid/shared/api";
import { newKeyRecord } from "../edge/src/lib/api-keys.js";
import { newWebhookSecret } from "../edge/src/lib/standard-webhooks.js";
import { applyLocalMigrations, localD1, sqlString, STATE_DIR } from "./lib/local-d1.js";

export async function createLocalKey(owner: string, scopes: string[], name: string, persistTo = STATE_DIR) {
  const req = CreateKeyRequest.parse({ owner_id: owner, scopes, name });
  const { key, row, hash } = await newKeyRecord("local", req.owner_id, req.name, req.scopes);
  localD1(
    `INSERT OR IGNORE INTO owners (id, created_at, webhook_secret) VALUES (${sqlString(req.owner_id)}, ${sqlString(row.created_at)}, ${sqlString(newWebhookSecret())});
     INSERT INTO api_keys (id, owner_id, name, prefix, key_hash, scopes, created_at) VALUES (${[row.id, row.owner_id, row.name, row.prefix, hash, row.scopes, row.created_at].map(sqlString).join(", ")});`,
    persistTo,
  );
  return { key, id: row.id };
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { owner: { type: "string" }, scopes: { type: "string" }, name: { type: "string" }, "persist-to": { type: "string" } },
  });
  const persistTo = values["persist-to"] ?? STATE_DIR;
  applyLocalMigrations(persistTo);
  const [command, arg] = positionals;
  if (command === "create") {
    if (!values.owner) throw new Error("create needs --owner <id>");
    const scopes = (values.scopes ?? "jobs:read,jobs:write").split(",");
    const { key, id } = await createLocalKey(values.owner, scopes, values.name ?? "default", persistTo);
    console.log(`created ${id} for ${values.owner} (${scopes.join(", ")})\n${key}\nKeep it: only its hash is stored.`);
  } else if (command === "list") {
    const where = values.owner ? ` WHERE owner_id = ${sqlString(values.owner)}` : "";
    for (const k of localD1<{ id: string; owner_id: string; prefix: string; scopes: string; revoked_at: string | null }>(
      `SELECT * FROM api_keys${where} ORDER BY created_at`,
      persistTo,
    )) {
      console.log(
        `${k.id}  ${k.owner_id}  ${k.prefix}...  ${JSON.parse(k.scopes).join(",")}  ${k.revoked_at ? `revoked ${k.revoked_at}` : "active"}`,
      );
    }
  } else if (command === "revoke") {
    if (!arg) throw new Error("revoke needs a key id (key_...)");
    localD1(
      `UPDATE api_keys SET revoked_at = ${sqlString(new Date().toISOString())} WHERE id = ${sqlString(arg)} AND revoked_at IS NULL`,
      persistTo,
    );
    console.log(`revoked ${arg} (a running edge refuses it within a minute; the admin endpoint revokes at once)`);
  } else {
    console.error("usage: npm run keys -- create --owner <id> [--scopes a,b] | list [--owner <id>] | revoke <key_id>");
    process.exitCode = 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
