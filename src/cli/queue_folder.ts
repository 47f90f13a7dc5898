/**
 * "Queue a folder" of `vpo serve`: one configured folder, recursively, under one configured
 * policy file, decided as `vpo transcode` decides (transcode or apply jobs), with the same memory
 * as the nightly `vpo transcode` (what one decided, the other knows). The CLI hands it to the
 * server, which knows no job type.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { FileDecision } from "../library/file_decision.ts";
import { Library } from "../library/library.ts";
import { queueFiles } from "../library/queue_scan.ts";
import { loadPolicyFile } from "../policy/policy.ts";
import type { VpoHome } from "../queue/layout.ts";
import type { JobQueue } from "../queue/store.ts";
import { deciderFor } from "./job_types.ts";

/** What queueing a folder decided, and the library's warnings on the way. */
export interface FolderDecisions {
  decisions: FileDecision[];
  warnings: string[];
}

/** Decides and queues every video under `folder` as `vpo transcode --recursive --policy`. */
export async function queueFolder(
  queue: JobQueue,
  home: VpoHome,
  config: Config,
  folder: string,
  policyFile: string,
): Promise<FolderDecisions> {
  const policy = await loadPolicyFile(policyFile);
  const { policyKey, decide } = deciderFor(policy, {
    policyFile,
    force: false,
    dryRun: false,
    tempDirectory: config.jobs.tempDirectory,
    cpuCores: config.worker.cpuCores,
  });
  const decisions: FileDecision[] = [];
  const warnings: string[] = [];
  const library = Library.of(home, (text) => warnings.push(text));
  try {
    for await (
      const d of queueFiles(queue, [folder], {
        policyKey,
        recursive: true,
        dryRun: false,
        library,
        settleSeconds: config.library.settleSeconds,
      }, decide)
    ) decisions.push(d);
  } finally {
    library.close({ compact: true });
  }
  return { decisions, warnings };
}
