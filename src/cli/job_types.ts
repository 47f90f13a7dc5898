/**
 * The job types the `vpo` command knows. A new type of job is added here and nowhere else above
 * its own folder.
 *
 * @module
 */
import { JobTypes } from "../queue/job_type.ts";
import { transcodeJobType } from "../transcode/job_type.ts";

/** Every job type the CLI runs, recovers and cleans up after. */
export const JOB_TYPES: JobTypes = new JobTypes([transcodeJobType]);
