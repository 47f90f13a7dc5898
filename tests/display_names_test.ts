/**
 * Names are shown, never obeyed: control characters and escape sequences in file names reach the
 * terminal escaped in `transcode`, `jobs list`, `jobs show` and error lines, while `--json` keeps
 * them exact. A name that is not valid UTF-8 is reported as such, not as "No such file".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { displayName } from "../src/util/display_name.ts";
import { makeClip } from "./helpers/clips.ts";
import { listJobs, withMediaHome } from "./helpers/worker.ts";

Deno.test("displayName escapes controls, C1 and bidi characters, and nothing else", () => {
  assert.equal(displayName("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  assert.equal(displayName("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
  assert.equal(displayName("x\x7f\x9by"), "x\\x7f\\x9by");
  assert.equal(displayName("abc\u202egpj.mkv"), "abc\\u202egpj.mkv");
  assert.equal(displayName("Café 東京 👩‍👩‍👧 \\n.mkv"), "Café 東京 👩‍👩‍👧 \\n.mkv");
});

/** No byte that starts an escape sequence or breaks a line inside a line. */
function assertInert(text: string, where: string): void {
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, `${where}: raw control in ${text}`);
}

Deno.test("names with escapes and newlines are escaped on the terminal, exact in JSON", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const name = "evil\x1b]0;owned\x07\x1b[2J\nqueued   fake.mkv";
    const shown = "evil\\x1b]0;owned\\x07\\x1b[2J\\nqueued   fake.mkv";
    const source = await makeClip(join(media, name));
    const queued = await home.run(["transcode", "--dry-run", media]);
    assertInert(queued.stdout, "transcode");
    assert.equal(queued.stdout.split("\n")[0].includes(`${media}/${shown}:`), true, queued.stdout);
    assert.equal((await home.run(["transcode", source])).code, 0);

    const list = await home.run(["jobs", "list"]);
    assertInert(list.stdout, "jobs list");
    assert.match(list.stdout, /evil\\x1b\]0;owned/);
    const [job] = await listJobs(home);
    assert.equal(job.file, source, "JSON keeps the exact name");
    const show = await home.run(["jobs", "show", job.id.slice(0, 8)]);
    assertInert(show.stdout, "jobs show");
    assert.ok(show.stdout.includes(`File        ${media}/${shown}\n`), show.stdout);

    const policy = join(media, "no\x1b[31mpolicy.yaml");
    const error = await home.run(["transcode", "--policy", policy, source]);
    assert.equal(error.stderr, `vpo: policy file not found: ${media}/no\\x1b[31mpolicy.yaml\n`);
    assert.equal(error.code, 1);
  });
});

Deno.test("a file name that is not valid UTF-8 is reported as such", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const clip = await makeClip(join(media, "clip.mkv"));
    // Deno cannot write such a name itself: its paths are strings.
    const mv = await new Deno.Command("sh", {
      args: ["-c", `mv "$1" "$(printf '%s/bad\\377name.mkv' "$2")"`, "sh", clip, media],
    }).output();
    assert.ok(mv.success);
    const message = "the file name is not valid UTF-8, so vpo cannot open it " +
      "(rename it, e.g. with convmv)";
    const byDir = await home.run(["transcode", media]);
    assert.equal(
      byDir.stdout.split("\n")[0],
      `error${" ".repeat(16)}${media}/bad\ufffdname.mkv: ${message}`,
    );
    assert.equal(byDir.code, 1);
    const byName = await new Deno.Command("sh", {
      args: [
        "-c",
        `exec "$@" "$(printf '%s/bad\\377name.mkv' "$MEDIA")"`,
        "sh",
        Deno.execPath(),
        "run",
        "-A",
        join(import.meta.dirname!, "..", "cli.ts"),
        "transcode",
      ],
      env: { VPO_HOME: home.vpoHome, MEDIA: media },
    }).output();
    const out = new TextDecoder().decode(byName.stdout);
    assert.ok(out.includes(`bad\ufffdname.mkv: ${message}`), out);
  });
});
