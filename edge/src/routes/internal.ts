import { Hono } from "hono";
import { SIGNATURE_HEADER } from "../../../shared/src/protocol/signature.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { log } from "../lib/log.js";
import { readBody } from "../lib/parse.js";

/** Callbacks from GPU functions, authenticated by the per-attempt secret's HMAC. */
export const internalRoutes = new Hono<AppEnv>();

internalRoutes.post("/gpu/jobs/:id/callbacks", async (c) => {
  const attempt = Number(c.req.header("ecomid-attempt"));
  if (!Number.isInteger(attempt) || attempt < 1) throw new AppError("invalid_request", "the ecomid-attempt header is missing");
  const raw = new TextDecoder().decode(await readBody(c.req.raw, 512 * 1024));
  const job = c.env.JOBS.get(c.env.JOBS.idFromName(c.req.param("id")));
  const outcome = await job.callback(attempt, raw, c.req.header(SIGNATURE_HEADER) ?? null);
  if (outcome.code) {
    // The GPU function sends back the creating request's id, so this line joins the job's other logs.
    log("warn", "GPU callback refused", { job_id: c.req.param("id"), request_id: c.get("requestId"), attempt, code: outcome.code });
    throw new AppError(outcome.code, outcome.detail ?? outcome.code, { status: outcome.status });
  }
  return c.json(outcome.answer, 200);
});
