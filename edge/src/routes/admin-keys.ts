import { Hono } from "hono";
import { z } from "zod";
import { CreateKeyRequest } from "@ecomid/shared/api";
import { getConfig } from "../config/config.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { newKeyRecord, presentKey, type KeyRow } from "../lib/api-keys.js";
import { readJson, validate } from "../lib/parse.js";
import { authenticate } from "../middleware/auth.js";
import { ensureOwner } from "../webhooks/owners.js";

/** Operator endpoints (admin scope): create, list and revoke API keys of any owner. */
export const adminKeyRoutes = new Hono<AppEnv>();

adminKeyRoutes.post("/", authenticate("admin"), async (c) => {
  const req = validate(CreateKeyRequest, await readJson(c.req.raw));
  const { key, row, hash } = await newKeyRecord(getConfig(c.env).environment, req.owner_id, req.name, req.scopes);
  await ensureOwner(c.env.DB, req.owner_id);
  await c.env.DB.prepare(`INSERT INTO api_keys (id, owner_id, name, prefix, key_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    .bind(row.id, row.owner_id, row.name, row.prefix, hash, row.scopes, row.created_at)
    .run();
  return c.json({ ...presentKey(row), key }, 201);
});

adminKeyRoutes.get("/", authenticate("admin"), async (c) => {
  const q = validate(z.object({ owner_id: z.string().max(64).optional() }), c.req.query(), "/query");
  const stmt = q.owner_id
    ? c.env.DB.prepare(`SELECT * FROM api_keys WHERE owner_id = ? ORDER BY created_at`).bind(q.owner_id)
    : c.env.DB.prepare(`SELECT * FROM api_keys ORDER BY created_at LIMIT 1000`);
  const { results } = await stmt.all<KeyRow>();
  return c.json({ object: "list", data: results.map(presentKey) });
});

adminKeyRoutes.post("/:id/revoke", authenticate("admin"), async (c) => {
  const id = c.req.param("id");
  const row = await c.env.DB.prepare(`SELECT * FROM api_keys WHERE id = ?`).bind(id).first<KeyRow>();
  if (!row) throw new AppError("not_found", `no key ${id}`);
  if (!row.revoked_at) {
    row.revoked_at = new Date().toISOString();
    await c.env.DB.prepare(`UPDATE api_keys SET revoked_at = ? WHERE id = ?`).bind(row.revoked_at, id).run();
    // The guard refuses the key on its very next request, whatever isolates cached.
    await c.env.KEY_GUARDS.get(c.env.KEY_GUARDS.idFromName(id)).revoke();
  }
  return c.json(presentKey(row));
});
