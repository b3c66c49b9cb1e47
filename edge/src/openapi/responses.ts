import { Problem } from "@ecomid/shared/api";
import { z } from "zod";
import { schemaOf } from "./json-schema.js";
import type { LinksObject, ResponseObject, Responses } from "./types.js";

/*
 * Answers are typed as plain response objects: their schemas are JSON Schema, not zod, so
 * the library's typed answers cannot apply, and a handler may answer with any Response.
 */

/** A refusal: application/problem+json with a stable `code`. */
export const problem = (description: string): ResponseObject => ({
  description,
  content: { "application/problem+json": { schema: schemaOf(Problem) } },
});

/** A JSON answer of this schema, with the operations its ids lead to (stateful tests follow them). */
export const json = (schema: z.ZodType, description: string, links?: LinksObject): ResponseObject => ({
  description,
  content: { "application/json": { schema: schemaOf(schema) } },
  ...(links ? { links } : {}),
});

/** A list envelope, as every listing answers. */
export const listOf = (item: z.ZodType) => z.object({ object: z.literal("list"), data: z.array(item) });

/** Answers any request can meet: the size gate (any method may send a body), and storage briefly unavailable. */
export const anyRequestRefusals = {
  413: problem("The body is larger than any request may be"),
  503: problem("Storage is briefly unavailable and the request did not complete; send it again after Retry-After"),
} satisfies Responses;

/** Refusals of the routes that take no key: the size gate and the per-client-address rate limit. */
export const publicRefusals = {
  ...anyRequestRefusals,
  429: problem("Rate limit per client address reached; see Retry-After"),
} satisfies Responses;

/** Refusals of every authenticated route: the key, its scope, its rate limits. */
export const keyRefusals = {
  ...anyRequestRefusals,
  401: problem("Missing, unknown or revoked API key"),
  403: problem("The key lacks the scope"),
  429: problem("Rate limit or in-flight cap reached; see Retry-After"),
} satisfies Responses;

/** Refusals of an authenticated route that reads a body. */
export const bodyRefusals = {
  ...keyRefusals,
  400: problem("Malformed request: not JSON, broken multipart, or a bad header"),
  415: problem("The body is not sent as the content type this route reads"),
  422: problem("Invalid input; `errors` points at each bad field"),
} satisfies Responses;

export const queryRefusal = { 422: problem("A bad query parameter") } satisfies Responses;

export const notFound = (what: string) => ({ 404: problem(`No such ${what} (or not yours)`) }) satisfies Responses;
