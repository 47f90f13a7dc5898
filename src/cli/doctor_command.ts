/**
 * `vpo doctor`: checks this machine and the queue; exit 0 when nothing FAILs.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { type CliContext, println } from "./context.ts";
import { examples } from "./help.ts";

/** Adds `doctor` to `program`. */
export function addDoctorCommand(program: Command, ctx: CliContext): void {
  program.command("doctor")
    .description("check ffmpeg, encoders, directories, config, the queue, clock and workers")
    .option("--policy <file...>", "also try the encoders of these policy files")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      examples(["vpo doctor", "vpo doctor --policy /etc/vpo/hevc.yaml", "vpo doctor --json"]) +
        "\nEach line is ok, warn or FAIL with what to do. Exit code 0 when nothing FAILs, else 1.\n",
    )
    .action(async (opts) => {
      const { formatDoctor, healthy, runDoctor } = await import("../ops/doctor.ts");
      const { JOB_TYPES } = await import("./job_types.ts");
      const report = await runDoctor({ home: ctx.home, types: JOB_TYPES, policies: opts.policy });
      if (opts.json) {
        println(
          JSON.stringify(
            { ok: healthy(report), clock_skew_sec: report.clockSkewSec, checks: report.checks },
            null,
            2,
          ),
        );
      } else println(formatDoctor(report));
      if (!healthy(report)) ctx.exitCode = 1;
    });
}
