import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env.js";
import { refuseInvalidRequest } from "./validation-hook.js";

/** A router whose routes are documented as they are defined (`router.openapi(route, handler)`). */
export const newRouter = () => new OpenAPIHono<AppEnv>({ defaultHook: refuseInvalidRequest });
export type Router = ReturnType<typeof newRouter>;
