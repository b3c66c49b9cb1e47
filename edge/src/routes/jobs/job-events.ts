import { createRoute } from "@hono/zod-openapi";
import { JobEvent } from "@ecomid/shared/api";
import { z } from "zod";
import { schemaOf } from "../../openapi/json-schema.js";
import { headerParameter } from "../../openapi/parameters.js";
import { keyRefusals, notFound } from "../../openapi/responses.js";
import type { Router } from "../../openapi/router.js";
import { requiresKey } from "../../openapi/security.js";
import type { JsonSchema } from "../../openapi/types.js";
import { JobPath, ownedJobOr404 } from "./owned-job.js";

/** One Server-Sent Events frame (the stream's item, as OpenAPI 3.2's itemSchema has it): the event's JSON travels in `data`. */
const eventFrame: JsonSchema = {
  type: "object",
  required: ["data"],
  properties: {
    id: { type: "string", description: "the event's sequence: send it back as Last-Event-ID to resume" },
    event: { type: "string", description: "the event's type" },
    retry: { type: "integer" },
    data: { type: "string", contentMediaType: "application/json", contentSchema: schemaOf(JobEvent) },
  },
};

const jobEventsRoute = createRoute({
  method: "get",
  path: "/{id}/events",
  operationId: "getJobEvents",
  summary: "Server-Sent Events of the job; resumes after Last-Event-ID",
  ...requiresKey("jobs:read"),
  // Read leniently by the handler: anything but a positive whole number starts from the beginning.
  parameters: [headerParameter("last-event-id", "the last sequence number received", z.string())],
  request: { params: JobPath },
  responses: {
    200: {
      description: "An event stream: one frame per JobEvent, its JSON in `data`",
      content: { "text/event-stream": { schema: eventFrame } },
    },
    ...keyRefusals,
    ...notFound("job"),
  },
});

export function registerJobEvents(router: Router): void {
  router.openapi(jobEventsRoute, async (c) => {
    const { stub } = await ownedJobOr404(c, c.req.valid("param").id);
    const after = Number(c.req.header("last-event-id") ?? c.req.query("after") ?? "0");
    const url = new URL(`https://job/events?after=${Number.isInteger(after) && after > 0 ? after : 0}`);
    const response = await stub.fetch(url);
    return new Response(response.body, response);
  });
}
