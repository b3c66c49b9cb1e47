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
      ...schemaOf(schemas.documentedForm),
      description: "A job as the multipart form's request part: its image is the part named face.",
    },
  };
}
