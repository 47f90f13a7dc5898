/** The replace journal's decisions, case by case, without touching a file. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type FoundIdentities,
  planResume,
  REPLACE_CRASH_POINTS,
  type ReplaceSteps,
} from "../../src/replace/replace_journal.ts";
import { SEGMENT_CRASH_POINTS } from "../../src/transcode/segments/encode_segment.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ORIGINAL = "1000:aaaaaaaaaaaaaaaaaaaaaaaa";
const OUTPUT = "600:bbbbbbbbbbbbbbbbbbbbbbbb";

function steps(over: Partial<ReplaceSteps> = {}): ReplaceSteps {
  return {
    phase: "replacing",
    source: "/m/a.mp4",
    source_id: ORIGINAL,
    temp: "/m/.vpo-x.partial",
    temp_ino: 77,
    final: "/m/a.mp4",
    backup: "/m/a.mp4.original",
    output_id: OUTPUT,
    ...over,
  };
}
const found = (over: Partial<FoundIdentities>): FoundIdentities => ({
  source: null,
  final: null,
  temp: null,
  backup: null,
  ...over,
});

Deno.test("journal: before the replace, the output is removed (if still its inode), nothing else", () => {
  const encoding = planResume(steps({ phase: "encoding" }), found({}));
  assert.deepEqual(encoding, {
    verdict: "rolled_back",
    actions: [{ remove: "/m/.vpo-x.partial", ino: 77 }],
  });
  const moving = planResume(
    steps({ phase: "moving", moved_from: "/tmp/t.partial", moved_from_ino: 33 }),
    found({}),
  );
  assert.deepEqual(moving.actions, [
    { remove: "/m/.vpo-x.partial", ino: 77 },
    { remove: "/tmp/t.partial", ino: 33 },
  ]);
  // No inode recorded: nothing can be proved vpo's, so the removal is refused when it runs.
  const unrecorded = planResume(steps({ phase: "encoding", temp_ino: undefined }), found({}));
  assert.deepEqual(unrecorded.actions, [{ remove: "/m/.vpo-x.partial", ino: null }]);
  assert.deepEqual(planResume(steps({ phase: "done" }), found({})).actions, []);
});

Deno.test("journal: recorded, not yet backed up: the output goes, the original stays", () => {
  const plan = planResume(steps(), found({ source: ORIGINAL, final: ORIGINAL, temp: OUTPUT }));
  assert.equal(plan.verdict, "rolled_back");
  assert.deepEqual(plan.actions, [{ remove: "/m/.vpo-x.partial" }, { syncDir: "/m" }]);
  // Something else at T (not the output's identity): removed only if it is T's recorded inode.
  const other = planResume(steps(), found({ source: ORIGINAL, final: ORIGINAL, temp: ORIGINAL }));
  assert.deepEqual(other.actions[0], { remove: "/m/.vpo-x.partial", ino: 77 });
});

Deno.test("journal: backed up by a link, not swapped: the extra link goes", () => {
  const plan = planResume(
    steps(),
    found({ source: ORIGINAL, final: ORIGINAL, temp: OUTPUT, backup: ORIGINAL }),
  );
  assert.equal(plan.verdict, "rolled_back");
  assert.deepEqual(plan.actions[0], { remove: "/m/a.mp4.original" });
});

Deno.test("journal: backed up by a rename, not swapped: the backup is renamed back", () => {
  const plan = planResume(steps(), found({ temp: OUTPUT, backup: ORIGINAL }));
  assert.equal(plan.verdict, "rolled_back");
  assert.deepEqual(plan.actions[0], { rename: "/m/a.mp4.original", to: "/m/a.mp4" });
});

Deno.test("journal: a backup path holding another file is never touched", () => {
  const plan = planResume(
    steps(),
    found({ source: ORIGINAL, final: ORIGINAL, backup: "1000:cccccccccccccccccccccccc" }),
  );
  assert.ok(plan.actions.every((a) => !("remove" in a) || a.remove !== "/m/a.mp4.original"));
  assert.ok(plan.actions.every((a) => !("rename" in a)));
});

Deno.test("journal: swapped under the same name: completed, only the temp name goes", () => {
  const plan = planResume(steps(), found({ final: OUTPUT, temp: OUTPUT, backup: ORIGINAL }));
  assert.equal(plan.verdict, "completed");
  assert.deepEqual(plan.actions, [{ remove: "/m/.vpo-x.partial" }, { syncDir: "/m" }]);
});

Deno.test("journal: swapped under a new name: the old name goes only if the backup has it", () => {
  const renamed = steps({ final: "/m/a.mkv" });
  const kept = planResume(renamed, found({ source: ORIGINAL, final: OUTPUT, backup: ORIGINAL }));
  assert.equal(kept.verdict, "completed");
  assert.deepEqual(kept.actions[0], { remove: "/m/a.mp4" });
  const noCopy = planResume(renamed, found({ source: ORIGINAL, final: OUTPUT, backup: null }));
  assert.ok(noCopy.actions.every((a) => !("remove" in a)), "the only copy is never removed");
  const noBackups = planResume(
    steps({ final: "/m/a.mkv", backup: null }),
    found({ source: ORIGINAL, final: OUTPUT }),
  );
  assert.deepEqual(noBackups.actions[0], { remove: "/m/a.mp4" });
  const replaced = planResume(
    renamed,
    found({ source: "700:dddddddddddddddddddddddd", final: OUTPUT, backup: ORIGINAL }),
  );
  assert.ok(replaced.actions.every((a) => !("remove" in a)), "a new file at S is the user's");
});

Deno.test("journal: source removed for a swap without rename-over: the backup is renamed back", () => {
  // [replace:source-removed]: S gone, B whole, T not yet at F (= S).
  const plan = planResume(steps(), found({ temp: OUTPUT, backup: ORIGINAL }));
  assert.equal(plan.verdict, "rolled_back");
  assert.deepEqual(plan.actions[0], { rename: "/m/a.mp4.original", to: "/m/a.mp4" });
});

Deno.test("journal: a record without identities (older vpo) recognises nothing but removes T", () => {
  const legacy = steps({ source_id: null, output_id: undefined });
  const plan = planResume(legacy, found({ final: OUTPUT, temp: OUTPUT, backup: ORIGINAL }));
  assert.equal(plan.verdict, "rolled_back");
  assert.deepEqual(plan.actions, [
    { remove: "/m/.vpo-x.partial", ino: 77 },
    { syncDir: "/m" },
  ]);
});

/** The source files under `dir`, in its subfolders too. */
function sourcesIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? sourcesIn(join(dir, e.name)) : [Deno.readTextFileSync(join(dir, e.name))]
  );
}

Deno.test("journal: the replace and segment lists hold every crash point of the job types and the replace", () => {
  const points = new Set(
    ["src/transcode", "src/replace"].flatMap((folder) => sourcesIn(join(ROOT, folder))).flatMap((
      source,
    ) => [...source.matchAll(/crashPoint\("([^"]+)"\)/g)].map((m) => m[1])),
  );
  const listed = [...REPLACE_CRASH_POINTS, ...SEGMENT_CRASH_POINTS];
  assert.deepEqual([...points].sort(), listed.sort());
});
