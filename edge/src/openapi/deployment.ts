import type { Config } from "../config/config.js";
import { jobRequestSchemas } from "../config/job-request.js";
import { componentRef, schemaOf } from "./json-schema.js";
import type { JsonSchema } from "./types.js";

/**
 * The components whose schemas depend on the deployment: its models on offer shape the
 * job request (config/job-request.ts). Routes refer to them by name; the document of each
 * deployment fills them in.
 */
const JOB_REQUEST = "DeploymentJobRequest";
const JOB_FORM_REQUEST = "DeploymentJobFormRequest";

/** A JSON job body: its images are upload ids and URLs. */
export const deploymentJobRequest = componentRef(JOB_REQUEST);
/** The job JSON in the multipart form's `request` part: its one image is the part named `face`. */
export const deploymentJobFormRequest = componentRef(JOB_FORM_REQUEST);

export function deploymentComponents(config: Config): Record<string, JsonSchema> {
  const schemas = jobRequestSchemas(config);
  return {
    [JOB_REQUEST]: {
      ...schemaOf(schemas.json),
      description: "A job this deployment takes as a JSON body: its models on offer, images by upload id or URL.",
    },
    [JOB_FORM_REQUEST]: {
      ...withoutCrossFieldRules(schemaOf(schemas.documentedForm)),
      description:
        "A job as the multipart form's request part: its image is the part named face. The rules between its fields are DeploymentJobRequest's (inpaint's mask or mask_from alpha, softedge's one image, intermediates that need their input), stated there only: schemathesis 4.32 cannot judge if/anyOf rules in a form that has a binary part (its coverage phase stops on 'Unsupported type: Binary').",
    },
  };
}

/**
 * The object-level rules between fields (anyOf/allOf/not/if/then beside `properties`, which the schemas state with
 * .meta) removed; unions (anyOf without `properties` beside it) stay.
 */
export function withoutCrossFieldRules(node: JsonSchema): JsonSchema {
  if (Array.isArray(node)) return node.map((n) => withoutCrossFieldRules(n as JsonSchema)) as unknown as JsonSchema;
  if (!node || typeof node !== "object") return node;
  const isObjectWithFields = "properties" in node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !(isObjectWithFields && ["anyOf", "allOf", "not", "if", "then", "else"].includes(key)))
      .map(([key, value]) => [key, withoutCrossFieldRules(value as JsonSchema)]),
  ) as JsonSchema;
}
