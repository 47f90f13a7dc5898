/**
 * The segment directory held open (review r16, finding 8): a link at its name is refused, names
 * are reached in the directory opened whatever its name holds later, and a directory put at its
 * name is told apart from it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkStillHeld, holdOwnDir, SegmentError } from "../src/transcode/segments/segment_dir.ts";

Deno.test("a held segment directory: links refused, its own names reached, a swap told", async () => {
  const root = await Deno.makeTempDir({ prefix: "vpo-segdir-" });
  try {
    const dir = join(root, ".vpo-0123456789abcdef0123456789abcdef.segments");
    await Deno.mkdir(join(root, "elsewhere"));
    await Deno.symlink(join(root, "elsewhere"), dir);
    assert.throws(() => holdOwnDir(dir), SegmentError);
    await Deno.remove(dir);

    await Deno.mkdir(dir, { mode: 0o700 });
    await Deno.writeTextFile(join(dir, "seg-0001.json"), "ours");
    using held = holdOwnDir(dir);
    await checkStillHeld(dir, held);

    // Someone who may write the media folder moves it aside and puts their own at its name.
    await Deno.rename(dir, join(root, "aside"));
    await Deno.mkdir(dir);
    await Deno.writeTextFile(join(dir, "seg-0001.json"), "theirs");
    await assert.rejects(() => checkStillHeld(dir, held), /was replaced by another directory/);
    const child = await Deno.readTextFile(join(held.pathForChild, "seg-0001.json"));
    assert.equal(child, "ours", "a child process reads the directory held");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
