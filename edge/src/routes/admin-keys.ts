import { createRoute } from "@hono/zod-openapi";
import { ApiKey, CreatedApiKey, CreateKeyRequest } from "@ecomid/shared/api";
import { z } from "zod";
import { getConfig } from "../config/config.js";
import { AppError } from "../errors.js";
import { newKeyRecord, presentKey, type KeyRow } from "../lib/api-keys.js";
import { readJson, validate } from "../lib/parse.js";
import { schemaOf } from "../openapi/json-schema.js";
import { queryParameters } from "../openapi/parameters.js";
import { bodyRefusals, json, keyRefusals, listOf, notFound, queryRefusal } from "../openapi/responses.js";
import { newRouter } from "../openapi/router.js";
import { requiresKey } from "../openapi/security.js";
import { ensureOwner } from "../webhooks/owners.js";

/** Operator endpoints (admin scope): create, list and revoke API keys of any owner. */
export const adminKeyRoutes = newRouter();

const createKey = createRoute({
  method: "post",
  path: "/",
  operationId: "createKey",
  summary: "Create an API key (admin)",
  ...requiresKey("admin"),
  // Read and checked by the handler: a size-limited read, 415 and invalid_json before the schema.
  request: { body: { required: true, content: { "application/json": { schema: schemaOf(CreateKeyRequest) } } } },
  responses: {
    201: json(CreatedApiKey, "The key, shown once", { RevokeKey: { operationId: "revokeKey", parameters: { id: "$response.body#/id" } } }),
    ...bodyRefusals,
  },
});
adminKeyRoutes.openapi(createKey, async (c) => {
  const req = validate(CreateKeyRequest, await readJson(c.req.raw));
  const { key, row, hash } = await newKeyRecord(getConfig(c.env).environment, req.owner_id, req.name, req.scopes);
  await ensureOwner(c.env.DB, req.owner_id);
  await c.env.DB.prepare(`INSERT INTO api_keys (id, owner_id, name, prefix, key_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    .bind(row.id, row.owner_id, row.name, row.prefix, hash, row.scopes, row.created_at)
    .run();
  return c.json({ ...presentKey(row), key }, 201);
});

const ListKeysQuery = z.object({ owner_id: z.string().max(64).optional() });

const listKeys = createRoute({
  method: "get",
  path: "/",
  operationId: "listKeys",
  summary: "List API keys (admin)",
  ...requiresKey("admin"),
  parameters: queryParameters(ListKeysQuery),
  responses: { 200: json(listOf(ApiKey), "Keys"), ...keyRefusals, ...queryRefusal },
});
adminKeyRoutes.openapi(listKeys, async (c) => {
  const q = validate(ListKeysQuery, c.req.query(), "/query");
  const stmt = q.owner_id
    ? c.env.DB.prepare(`SELECT * FROM api_keys WHERE owner_id = ? ORDER BY created_at`).bind(q.owner_id)
    : c.env.DB.prepare(`SELECT * FROM api_keys ORDER BY created_at LIMIT 1000`);
  const { results } = await stmt.all<KeyRow>();
  return c.json({ object: "list" as const, data: results.map(presentKey) }, 200);
});

const revokeKey = createRoute({
  method: "post",
  path: "/{id}/revoke",
  operationId: "revokeKey",
  summary: "Revoke an API key (admin)",
  ...requiresKey("admin"),
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: json(ApiKey, "Revoked"), ...keyRefusals, ...notFound("key") },
});
adminKeyRoutes.openapi(revokeKey, async (c) => {
  const { id } = c.req.valid("param");
  const row = await c.env.DB.prepare(`SELECT * FROM api_keys WHERE id = ?`).bind(id).first<KeyRow>();
  if (!row) throw new AppError("not_found", `no key ${id}`);
  if (!row.revoked_at) {
    row.revoked_at = new Date().toISOString();
    await c.env.DB.prepare(`UPDATE api_keys SET revoked_at = ? WHERE id = ?`).bind(row.revoked_at, id).run();
    // The guard refuses the key on its very next request, whatever isolates cached.
    await c.env.KEY_GUARDS.get(c.env.KEY_GUARDS.idFromName(id)).revoke();
  }
  return c.json(presentKey(row), 200);
});
