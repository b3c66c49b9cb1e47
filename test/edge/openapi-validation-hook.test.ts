import { createRoute } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, problemResponse } from "../../edge/src/errors.js";
import { newRouter } from "../../edge/src/openapi/router.js";

/**
 * What a route's request schemas refuse, when the library validates them, is the API's
 * own refusal (422 invalid_request, a pointer per field under the part of the request),
 * never @hono/zod-openapi's answer.
 */
function appWith(route: ReturnType<typeof createRoute>) {
  const app = newRouter();
  app.openapi(route, (c) => c.json({ ok: true }, 200));
  app.onError((err) => (err instanceof AppError ? problemResponse(err, "req_test") : new Response("unexpected", { status: 500 })));
  return app;
}

describe("the routers' validation hook", () => {
  it("answers a refused query or path parameter with problem+json invalid_request and pointers", async () => {
    const app = appWith(
      createRoute({
        method: "get",
        path: "/things/{id}",
        request: { params: z.object({ id: z.string().regex(/^t_\d+$/) }), query: z.object({ limit: z.coerce.number().int().min(1) }) },
        responses: { 200: { description: "ok" } },
      }),
    );
    const badQuery = await app.request("/things/t_1?limit=0");
    expect(badQuery.status).toBe(422);
    expect(badQuery.headers.get("content-type")).toBe("application/problem+json");
    expect(await badQuery.json()).toMatchObject({
      code: "invalid_request",
      status: 422,
      request_id: "req_test",
      errors: [{ pointer: "/query/limit" }],
    });

    const badPath = await app.request("/things/x?limit=1");
    expect(badPath.status).toBe(422);
    expect(await badPath.json()).toMatchObject({ code: "invalid_request", errors: [{ pointer: "/path/id" }] });

    expect((await app.request("/things/t_1?limit=1")).status).toBe(200);
  });
});
