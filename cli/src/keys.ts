import { parseArgs } from "node:util";
import type { ApiKey } from "@ecomid/shared/api";
import type { CommandContext } from "./context.js";
import { EXIT, UsageError } from "./exit-codes.js";

const options = {
  owner: { type: "string" },
  scopes: { type: "string" },
  name: { type: "string" },
  local: { type: "boolean" },
} as const;

/**
 * Keys through the admin endpoints (a key with the admin scope, such as npm start's
 * dev key), or with --local straight in the local stack's D1 database
 * (scripts/keys.ts), which works while the edge is down.
 */
export async function keysCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true });
  if (sub === "create") {
    if (!values.owner) throw new UsageError("keys create needs --owner <id>");
    const scopes = (values.scopes ?? "jobs:read,jobs:write").split(",").map((s) => s.trim());
    if (values.local) {
      const { createLocalKey } = await import("../../scripts/keys.js");
      const { applyLocalMigrations } = await import("../../scripts/lib/local-d1.js");
      applyLocalMigrations();
      const { key, id } = await createLocalKey(values.owner, scopes, values.name ?? "default");
      ctx.stdout.write(`${key}\n`);
      ctx.stderr.write(`created ${id} for ${values.owner} (${scopes.join(", ")}) in the local database; only its hash is stored\n`);
      return EXIT.ok;
    }
    const created = await ctx.client.createKey({
      owner_id: values.owner,
      scopes: scopes as ApiKey["scopes"],
      ...(values.name ? { name: values.name } : {}),
    });
    ctx.stdout.write(ctx.json ? `${JSON.stringify(created, null, 2)}\n` : `${created.key}\n`);
    ctx.stderr.write(
      `created ${created.id} for ${created.owner_id} (${created.scopes.join(", ")}); keep the key, only its hash is stored\n`,
    );
    return EXIT.ok;
  }
  if (sub === "list") {
    const keys = values.local ? await localKeys(values.owner) : await ctx.client.listKeys(values.owner);
    if (ctx.json) ctx.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    else
      for (const k of keys)
        ctx.stdout.write(
          `${k.id}  ${k.owner_id}  ${k.prefix}...  ${k.scopes.join(",")}  ${k.revoked_at ? `revoked ${k.revoked_at}` : "active"}\n`,
        );
    return EXIT.ok;
  }
  if (sub === "revoke") {
    const id = positionals[0];
    if (!id || positionals.length !== 1) throw new UsageError("keys revoke needs exactly one key id (key_...)");
    if (values.local) {
      const { localD1, sqlString } = await import("../../scripts/lib/local-d1.js");
      localD1(`UPDATE api_keys SET revoked_at = ${sqlString(new Date().toISOString())} WHERE id = ${sqlString(id)} AND revoked_at IS NULL`);
      ctx.stdout.write(`${id} revoked in the local database (a running edge refuses it within a minute)\n`);
      return EXIT.ok;
    }
    const key = await ctx.client.revokeKey(id);
    ctx.stdout.write(`${key.id} revoked at ${key.revoked_at}\n`);
    return EXIT.ok;
  }
  throw new UsageError(sub ? `unknown keys command "${sub}"` : "keys needs a command: create, list or revoke");
}

async function localKeys(owner: string | undefined): Promise<Pick<ApiKey, "id" | "owner_id" | "prefix" | "scopes" | "revoked_at">[]> {
  const { localD1, sqlString } = await import("../../scripts/lib/local-d1.js");
  const where = owner ? ` WHERE owner_id = ${sqlString(owner)}` : "";
  const rows = localD1<{ id: string; owner_id: string; prefix: string; scopes: string; revoked_at: string | null }>(
    `SELECT * FROM api_keys${where} ORDER BY created_at`,
  );
  return rows.map((r) => ({ ...r, scopes: JSON.parse(r.scopes) as ApiKey["scopes"] }));
}
