import { AppError, problemResponse } from "./errors.js";
import { log } from "./lib/log.js";
import { storageRetryAfterSeconds } from "./lib/storage-errors.js";
import { bodyLimit } from "./middleware/body-limit.js";
import { cors } from "./middleware/cors.js";
import { allowedMethods } from "./middleware/method-not-allowed.js";
import { requestId } from "./middleware/request-id.js";
import { securityHeaders } from "./middleware/security-headers.js";
import { newRouter } from "./openapi/router.js";
import { registerSecuritySchemes } from "./openapi/security.js";
import { adminKeyRoutes } from "./routes/admin-keys.js";
import { adminPoolRoutes } from "./routes/admin-pools.js";
import { documentRoutes } from "./routes/document.js";
import { fileRoutes } from "./routes/files.js";
import { internalRoutes } from "./routes/internal.js";
import { jobRoutes } from "./routes/jobs/index.js";
import { metaRoutes } from "./routes/meta.js";
import { uploadRoutes } from "./routes/uploads.js";
import { webhookRoutes } from "./routes/webhooks.js";

export function createApp() {
  const app = newRouter();
  // Order matters: the request id and security headers wrap everything, refusals included;
  // CORS answers preflights before authentication; the size gate runs before any body is read.
  app.use("*", requestId());
  app.use("*", securityHeaders());
  app.use("*", cors());
  app.use("*", bodyLimit());
  app.route("/", metaRoutes);
  app.route("/v1/uploads", uploadRoutes);
  app.route("/v1/jobs", jobRoutes);
  app.route("/v1", webhookRoutes);
  app.route("/v1/admin/keys", adminKeyRoutes);
  app.route("/v1/admin/pools", adminPoolRoutes);
  // Signed file URLs and GPU callbacks are not the public API: plain Hono, not in the document.
  app.route("/files", fileRoutes);
  app.route("/internal", internalRoutes);
  registerSecuritySchemes(app);
  app.route("/", documentRoutes(app));

  const allowed = allowedMethods(app);
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const methods = allowed(path);
    if (!methods.length) return problemResponse(new AppError("not_found", `no route ${c.req.method} ${path}`), c.get("requestId"));
    // A plain OPTIONS (a CORS preflight is answered earlier) asks what the path allows.
    if (c.req.method === "OPTIONS")
      return new Response(null, { status: 204, headers: { allow: methods.join(", "), "x-request-id": c.get("requestId") } });
    return problemResponse(
      new AppError("method_not_allowed", `${path} takes ${methods.join(", ")}, not ${c.req.method}`, {
        headers: { allow: methods.join(", ") },
      }),
      c.get("requestId"),
    );
  });
  app.onError((err, c) => {
    const id = c.get("requestId") ?? "unknown";
    if (err instanceof AppError) return problemResponse(err, id);
    const retryAfter = storageRetryAfterSeconds(err);
    if (retryAfter !== null) {
      // The request did not complete: a job creation that failed gave back its slot and its Idempotency-Key on the way out.
      log("error", "storage unavailable", {
        requestId: id,
        path: new URL(c.req.url).pathname,
        error: err instanceof Error ? err.message : String(err),
      });
      return problemResponse(
        new AppError(
          "temporarily_unavailable",
          "storage is briefly unavailable and the request did not complete; send it again after Retry-After (with the same Idempotency-Key for a job)",
          { headers: { "retry-after": String(retryAfter) } },
        ),
        id,
      );
    }
    log("error", "unhandled error", {
      requestId: id,
      path: new URL(c.req.url).pathname,
      error: err instanceof Error ? err.stack : String(err),
    });
    return problemResponse(new AppError("internal_error", "something went wrong on our side; the request id helps us find it"), id);
  });
  return app;
}
