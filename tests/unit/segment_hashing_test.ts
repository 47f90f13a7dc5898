/**
 * Hashing a film's finished segments when a run resumes reads every byte of them: a minute or more
 * over a network share. The worker's heartbeat is a timer in the same process, so the hashing must
 * let timers run, or the job looks dead to the other workers while it is hashed.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { hashFile } from "../../src/transcode/segments/hashing.ts";

Deno.test("hashing a segment lets the worker's timers run meanwhile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vpo-hash-" });
  try {
    const path = join(dir, "seg-0001.0123456789ab.mkv");
    const data = new Uint8Array(40 * 1024 * 1024).map((_, i) => i % 251);
    await Deno.writeFile(path, data);
    let ticked = false;
    const timer = setTimeout(() => ticked = true, 0);
    const hash = await hashFile(path);
    clearTimeout(timer);
    assert.ok(ticked, "a timer due during the hashing ran before it ended");
    assert.deepEqual(hash, {
      size: data.length,
      sha256: createHash("sha256").update(data).digest("hex"),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
