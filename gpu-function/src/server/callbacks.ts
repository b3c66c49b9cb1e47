import {
  CALLBACK_REFUSAL_STATUSES,
  type GpuCallback,
  type GpuCallbackAnswer,
  type GpuJobRequest,
  SIGNATURE_HEADER,
  signCallback,
} from "@ecomid/shared/protocol";
import type { Logger } from "../runtime/log.js";

export interface CallbackOptions {
  /** Tries in all, for network failures and 5xx. */
  attempts: number;
  /** The edge's x-request-id of the dispatch, sent back so the edge can tie its callback logs to the request. */
  requestId: string;
  log: Logger;
  /** Per try; a hand-back at shutdown uses less, so it fits the grace period. */
  timeoutMs?: number;
}

/**
 * Posts one signed callback to the edge. Network failures and 5xx are retried with
 * backoff (the edge treats repeats as no-ops); a 4xx answer is final, and a refusal
 * (403, 404, 409, 410: a bad signature, a deleted job, a superseded attempt) answers
 * "cancel" whatever its body says, so the attempt stops. Returns the edge's answer, or
 * null when it never answered.
 */
export async function postCallback(
  request: GpuJobRequest,
  cb: GpuCallback,
  { attempts, requestId, log, timeoutMs = 10_000 }: CallbackOptions,
): Promise<GpuCallbackAnswer | null> {
  const body = JSON.stringify(cb);
  for (let i = 1; i <= attempts; i++) {
    try {
      const res = await fetch(request.callback.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "ecomid-attempt": String(request.attempt),
          "x-request-id": requestId,
          [SIGNATURE_HEADER]: await signCallback(request.callback.secret, request.job_id, request.attempt, body),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const answer = (await res.json().catch(() => null)) as GpuCallbackAnswer | null;
      if (res.ok) return answer;
      if (CALLBACK_REFUSAL_STATUSES.includes(res.status)) {
        log("warn", "edge refused a callback; stopping the job", { type: cb.type, status: res.status });
        return { ok: false, cancel: true };
      }
      if (res.status < 500) {
        log("warn", "edge did not accept a callback", { type: cb.type, status: res.status });
        return { ok: false, cancel: false };
      }
      log("warn", "edge answered a callback with an error", { type: cb.type, status: res.status, try: i, of: attempts });
    } catch (e) {
      log("warn", "callback failed", { type: cb.type, try: i, of: attempts, error: String(e) });
    }
    if (i < attempts) await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** i, 5000)));
  }
  return null;
}

/** Downloads a signed input URL with a size limit. */
export async function download(url: string, maxBytes: number): Promise<Uint8Array> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`input download gave HTTP ${res.status}`);
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw new Error(`input is ${declared} bytes, more than ${maxBytes}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw new Error(`input is more than ${maxBytes} bytes`);
  return bytes;
}

/** Uploads one result through its signed PUT URL. */
export async function upload(putUrl: string, contentType: string, bytes: Uint8Array): Promise<void> {
  let lastError = "";
  for (let i = 1; i <= 3; i++) {
    try {
      const res = await fetch(putUrl, {
        method: "PUT",
        headers: { "content-type": contentType },
        body: bytes as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(60_000),
      });
      if (res.ok) return;
      lastError = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      if (res.status < 500) break;
    } catch (e) {
      lastError = String(e);
    }
    await new Promise((r) => setTimeout(r, 300 * i));
  }
  throw new Error(`upload failed: ${lastError}`);
}
