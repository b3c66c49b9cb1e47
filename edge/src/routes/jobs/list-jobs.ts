import { createRoute } from "@hono/zod-openapi";
import { JobList, ListJobsQuery } from "@ecomid/shared/api";
import { getConfig } from "../../config/config.js";
import { listJobRows } from "../../db/jobs.js";
import { jobIndexWriter } from "../../durable-objects/job-index-writer.js";
import { presentJob } from "../../jobs/present.js";
import { validate } from "../../lib/parse.js";
import { queryParameters } from "../../openapi/parameters.js";
import { json, keyRefusals, queryRefusal } from "../../openapi/responses.js";
import type { Router } from "../../openapi/router.js";
import { requiresKey } from "../../openapi/security.js";

const listJobsRoute = createRoute({
  method: "get",
  path: "/",
  operationId: "listJobs",
  summary: "List jobs",
  ...requiresKey("jobs:read"),
  parameters: queryParameters(ListJobsQuery),
  responses: {
    200: json(JobList, "A page of jobs", {
      FirstJob: { operationId: "getJob", parameters: { id: "$response.body#/data/0/id" } },
      // A job's outputs exist once it has succeeded: a listing (of succeeded jobs) leads to them, a creation does not.
      FirstJobOutput: { operationId: "getJobOutput", parameters: { id: "$response.body#/data/0/id", index: "0" } },
    }),
    ...keyRefusals,
    ...queryRefusal,
  },
});

export function registerListJobs(router: Router): void {
  router.openapi(listJobsRoute, async (c) => {
    const q = validate(ListJobsQuery, c.req.query(), "/query");
    // The schema's pattern admits only positions: every cursor it lets through is one to page on from.
    const [ms, cursorId] = q.cursor ? q.cursor.split(".") : [];
    const cursor = ms && cursorId ? { at: new Date(Number(ms)).toISOString(), id: cursorId } : undefined;
    // Changes still on their way into the index are written first: a client lists what it just created.
    await jobIndexWriter(c.env).flush();
    const rows = await listJobRows(c.env.DB, {
      ownerId: c.get("auth").ownerId,
      ...(q.status ? { status: q.status } : {}),
      ...(q.model ? { model: q.model } : {}),
      ...(q.updated_after ? { updatedAfter: q.updated_after } : {}),
      ...(q.created_after ? { createdAfter: q.created_after } : {}),
      ...(cursor ? { cursor } : {}),
      limit: q.limit,
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const hasMore = rows.length > q.limit;
    const config = getConfig(c.env);
    return c.json(
      {
        object: "list",
        data: await Promise.all(page.map((s) => presentJob(s, c.env, config))),
        has_more: hasMore,
        next_cursor:
          hasMore && last ? `${Date.parse(q.updated_after ? last.core.updated_at : last.core.created_at)}.${last.core.id}` : null,
      },
      200,
    );
  });
}
