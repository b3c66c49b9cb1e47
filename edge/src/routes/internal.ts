import { Hono } from "hono";
import { SIGNATURE_HEADER, verifyCallback } from "@ecomid/shared/protocol";
import { getConfig } from "../config/config.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { callbackSecret } from "../jobs/callback-secret.js";
import { JOB_ID_PATTERN } from "../lib/ids.js";
import { log } from "../lib/log.js";
import { readBody } from "../lib/parse.js";

/** Callbacks from GPU functions, authenticated by the per-attempt secret's HMAC. */
export const internalRoutes = new Hono<AppEnv>();

const MAX_CALLBACK_BYTES = 512 * 1024;
/** Far above any attempt a job reaches (MAX_ATTEMPTS plus hand-backs); keeps the header a small number. */
const MAX_ATTEMPT_NUMBER = 1000;

/**
 * Every anonymous refusal is this one answer: a malformed id or attempt, a signature
 * that does not verify, a job that never existed. Telling them apart would reveal which
 * job ids exist and which attempt each is on.
 */
const notSigned = () => new AppError("signature_invalid", "the callback's signature is not valid", { extensions: { cancel: true } });

internalRoutes.post("/gpu/jobs/:id/callbacks", async (c) => {
  const jobId = c.req.param("id");
  const attempt = Number(c.req.header("ecomid-attempt"));
  const raw = new TextDecoder().decode(await readBody(c.req.raw, MAX_CALLBACK_BYTES));
  // Checked here, before any Durable Object is touched: nobody without the attempt's
  // secret can make the edge instantiate (or create storage for) a job object.
  if (!JOB_ID_PATTERN.test(jobId) || !Number.isInteger(attempt) || attempt < 1 || attempt > MAX_ATTEMPT_NUMBER) throw notSigned();
  const secret = await callbackSecret(getConfig(c.env).signingSecret, jobId, attempt);
  const check = await verifyCallback(secret, jobId, attempt, raw, c.req.header(SIGNATURE_HEADER) ?? null);
  if (check === "invalid") throw notSigned();
  if (check === "expired") {
    // Only the holder of this attempt's secret can get here: no existence is revealed.
    throw new AppError("signature_expired", "the callback's signature is older than the tolerance; check the GPU function's clock", {
      extensions: { cancel: true },
    });
  }
  const outcome = await c.env.JOBS.get(c.env.JOBS.idFromName(jobId)).callback(attempt, raw);
  if (outcome.code) {
    // The GPU function sends back the creating request's id, so this line joins the job's other logs.
    log("warn", "GPU callback refused", { job_id: jobId, request_id: c.get("requestId"), attempt, code: outcome.code });
    throw new AppError(outcome.code, outcome.detail ?? outcome.code, {
      status: outcome.status,
      extensions: { cancel: outcome.answer.cancel },
    });
  }
  return c.json(outcome.answer, 200);
});
