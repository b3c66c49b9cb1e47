import { newRouter } from "../../openapi/router.js";
import { registerCancelJob } from "./cancel-job.js";
import { registerCreateJob } from "./create-job.js";
import { registerDeleteJob } from "./delete-job.js";
import { registerGetJob } from "./get-job.js";
import { registerJobEvents } from "./job-events.js";
import { registerJobOutput } from "./job-output.js";
import { registerListJobs } from "./list-jobs.js";

/** /v1/jobs: one file per operation, each holding its OpenAPI definition and its handler. */
export const jobRoutes = newRouter();
registerCreateJob(jobRoutes);
registerListJobs(jobRoutes);
registerGetJob(jobRoutes);
registerCancelJob(jobRoutes);
registerDeleteJob(jobRoutes);
registerJobEvents(jobRoutes);
registerJobOutput(jobRoutes);
