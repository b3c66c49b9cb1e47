import type { z } from "zod";
import { AppError, zodIssuesToFieldErrors } from "../errors.js";
import { readLimited } from "./ssrf.js";

export const MAX_JSON_BYTES = 256 * 1024;

/** Size-limited body read: the Content-Length is checked before anything is parsed. */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw new AppError("payload_too_large", `the body is ${declared} bytes; at most ${maxBytes} are accepted`);
  }
  return readLimited(new Response(request.body), maxBytes);
}

export async function readJson(request: Request, maxBytes = MAX_JSON_BYTES): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new AppError("unsupported_media_type", "send the body as application/json");
  }
  return parseJsonBytes(await readBody(request, maxBytes));
}

export function parseJsonBytes(bytes: Uint8Array, what = "the body"): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new AppError("invalid_json", `${what} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Validates with a shared zod schema; every problem comes back with a JSON pointer. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, pointerBase = ""): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw invalidRequest(result.error.issues, pointerBase);
}

/** 422: the request was well-formed but its content breaks the schema; `errors` points at each bad field under `pointerBase`. */
export function invalidRequest(issues: ReadonlyArray<z.core.$ZodIssue>, pointerBase = ""): AppError {
  const errors = zodIssuesToFieldErrors(issues, pointerBase);
  const first = errors[0];
  return new AppError(
    "invalid_request",
    first ? `${first.pointer || "/"}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}` : "invalid request",
    {
      errors,
      status: 422,
    },
  );
}
