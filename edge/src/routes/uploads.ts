import { createRoute } from "@hono/zod-openapi";
import { CreateUploadRequest, Upload } from "@ecomid/shared/api";
import { z } from "zod";
import { getConfig } from "../config/config.js";
import { AppError } from "../errors.js";
import { r2Keys } from "../jobs/types.js";
import { newId } from "../lib/ids.js";
import { readJson, validate } from "../lib/parse.js";
import { signFileUrl } from "../lib/signed-urls.js";
import { schemaOf } from "../openapi/json-schema.js";
import { bodyRefusals, json, keyRefusals, notFound } from "../openapi/responses.js";
import { newRouter } from "../openapi/router.js";
import { requiresKey } from "../openapi/security.js";

export const uploadRoutes = newRouter();

const UPLOAD_URL_TTL_SECONDS = 15 * 60;

interface UploadRow {
  id: string;
  content_type: Upload["content_type"];
  bytes: number;
  status: Upload["status"];
  r2_key: string;
  sha256: string | null;
  width: number | null;
  height: number | null;
  created_at: string;
  expires_at: string;
}

function present(row: UploadRow, uploadUrl: string | null, urlExpiresAt: number | null): Upload {
  return {
    id: row.id,
    object: "upload",
    status: row.status,
    content_type: row.content_type,
    bytes: row.bytes,
    upload_url: uploadUrl,
    upload_url_expires_at: urlExpiresAt ? new Date(urlExpiresAt * 1000).toISOString() : null,
    width: row.width,
    height: row.height,
    sha256: row.sha256,
    created_at: row.created_at,
    expires_at: row.expires_at,
  };
}

const createUpload = createRoute({
  method: "post",
  path: "/",
  operationId: "createUpload",
  summary: "Start a direct upload: returns a signed PUT URL",
  ...requiresKey("jobs:write", { creates: true }),
  // Read and checked by the handler: a size-limited read, 415 and invalid_json before the schema.
  request: { body: { required: true, content: { "application/json": { schema: schemaOf(CreateUploadRequest) } } } },
  responses: {
    201: json(Upload, "Created", { GetUpload: { operationId: "getUpload", parameters: { id: "$response.body#/id" } } }),
    ...bodyRefusals,
  },
});

/** Step one of a direct upload: a signed PUT URL (15 min) for exactly this type and at most this many bytes. */
uploadRoutes.openapi(createUpload, async (c) => {
  const req = validate(CreateUploadRequest, await readJson(c.req.raw));
  const config = getConfig(c.env);
  const owner = c.get("auth").ownerId;
  const id = newId("upl");
  const now = Date.now();
  const row: UploadRow = {
    id,
    content_type: req.content_type,
    bytes: req.bytes,
    status: "pending",
    r2_key: r2Keys.upload(owner, id),
    sha256: null,
    width: null,
    height: null,
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + config.uploadTtlSeconds * 1000).toISOString(),
  };
  await c.env.DB.prepare(
    `INSERT INTO uploads (id, owner_id, content_type, bytes, status, r2_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(id, owner, row.content_type, row.bytes, row.status, row.r2_key, row.created_at, row.expires_at)
    .run();
  const exp = Math.floor(now / 1000) + UPLOAD_URL_TTL_SECONDS;
  const url = await signFileUrl(config.publicBaseUrl, config.signingSecret, {
    method: "PUT",
    key: row.r2_key,
    expiresAt: exp,
    maxBytes: req.bytes,
    contentType: req.content_type,
  });
  return c.json(present(row, url, exp), 201, { location: `/v1/uploads/${id}` });
});

const getUpload = createRoute({
  method: "get",
  path: "/{id}",
  operationId: "getUpload",
  summary: "An upload",
  ...requiresKey("jobs:read"),
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: json(Upload, "The upload"), ...keyRefusals, ...notFound("upload") },
});

uploadRoutes.openapi(getUpload, async (c) => {
  const { id } = c.req.valid("param");
  const row = await c.env.DB.prepare(`SELECT * FROM uploads WHERE id = ? AND owner_id = ?`)
    .bind(id, c.get("auth").ownerId)
    .first<UploadRow>();
  if (!row) throw new AppError("not_found", `no upload ${id}`);
  return c.json(present(row, null, null), 200);
});
