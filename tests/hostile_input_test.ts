/**
 * What others may write, taken as the input it is (issue 16): a file name printed back in
 * ffmpeg's log cannot drive the terminal or forge lines (row 11).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import { onlyJob, withMediaHome } from "./helpers/worker.ts";

Deno.test("row 11: jobs log shows a hostile file name escaped, in vpo's header and ffmpeg's lines", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const name = "evil\x1b]0;owned\x07\x1b[2J\u202eimg\n# forged.mkv";
    const clip = await makeClip(join(media, name));
    assert.equal((await home.run(["transcode", clip])).code, 0);
    const id = (await onlyJob(home)).id;
    assert.equal((await home.run(["jobs", "start"])).code, 0);
    const log = await home.run(["jobs", "log", id]);
    assert.equal(log.code, 0, log.stderr);
    for (const c of ["\x07", "\x1b", "\u202e"]) {
      assert.ok(!log.stdout.includes(c), "no control character reaches the terminal");
    }
    assert.ok(!log.stdout.split("\n").some((l) => l.startsWith("# forged")), "no forged line");
    assert.match(log.stdout, /^# \S+ .*evil\\x1b\]0;owned\\x07\\x1b\[2J\\u202eimg\\n# forged\.mkv/);
  });
});
