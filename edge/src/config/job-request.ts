import { createJobRequestFor } from "@ecomid/shared/api";
import type { Config } from "./config.js";

export type JobRequestSchemas = {
  /** The model a request without one gets. */
  defaultModel: string;
  /** A JSON body: its images are upload ids and URLs. */
  json: ReturnType<typeof createJobRequestFor>;
  /** The multipart form as the OpenAPI document states it: one file part, `face`. */
  documentedForm: ReturnType<typeof createJobRequestFor>;
};

const cache = new WeakMap<Config, JobRequestSchemas>();

/**
 * The job request schemas of this deployment (its models on offer), built once per
 * config, for the OpenAPI document. Requests are checked by the shared API-wide schema,
 * then by the model's limits (createJob), which together accept exactly what these state.
 */
export function jobRequestSchemas(config: Config): JobRequestSchemas {
  let schemas = cache.get(config);
  if (!schemas) {
    const json = createJobRequestFor(config.models, "json");
    schemas = {
      defaultModel: json.shape.model.parse(undefined),
      json,
      documentedForm: createJobRequestFor(config.models, { part: "face" }),
    };
    cache.set(config, schemas);
  }
  return schemas;
}
