import type { Hook } from "@hono/zod-openapi";
import type { ValidationTargets } from "hono";
import type { AppEnv } from "../env.js";
import { invalidRequest } from "../lib/parse.js";

/** Where a refused field is pointed at, per part of the request (RFC 6901 pointers under it). */
const POINTER_BASES: Record<keyof ValidationTargets, string> = {
  json: "",
  form: "",
  query: "/query",
  param: "/path",
  header: "/headers",
  cookie: "/cookies",
};

/**
 * What a route's request schemas refuse is the API's own 422 invalid_request with a
 * pointer per field, through onError as every refusal, never the library's own answer.
 */
export const refuseInvalidRequest: Hook<unknown, AppEnv, string, void> = (result) => {
  if (!result.success) throw invalidRequest(result.error.issues, POINTER_BASES[result.target]);
};
