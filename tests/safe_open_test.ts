/**
 * The one way vpo opens files where others may write (src/util/safe_open.ts): what it refuses,
 * that vpo's permission list lets its strongest checks reach the kernel, and that the checks
 * which need no particular permission hold without them too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";
import {
  createFileSync,
  openAppendSync,
  readRegularFileSync,
  replaceFileSync,
  UnreadableFileError,
  UntrustedDirectoryError,
} from "../src/util/safe_open.ts";
import { Racer } from "./helpers/racer.ts";
import { withTempDir } from "./helpers/temp.ts";

const SAFE_OPEN = new URL("../src/util/safe_open.ts", import.meta.url).href;

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(out.success, `mkfifo ${path}`);
}

/** Runs `code` (a module importing safe_open from `SAFE_OPEN`) with `permissions`; its stdout. */
async function runScript(permissions: readonly string[], code: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissions, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("vpo's permissions let O_NOFOLLOW and descriptor paths reach the kernel", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "victim"), "keep me");
    await Deno.symlink(join(dir, "victim"), join(dir, "link"));
    const out = await runScript(
      CLI_PERMISSIONS,
      `import { openAppendSync, pathsReachKernel } from "${SAFE_OPEN}";
       const raw = pathsReachKernel();
       // Without the lstat that covers narrowed permissions, only O_NOFOLLOW refuses the link.
       let link = "opened";
       try { openAppendSync(${JSON.stringify(join(dir, "link"))}).close(); }
       catch (err) { link = err.message; }
       console.log(JSON.stringify({ raw, link }));`,
    );
    const { raw, link } = JSON.parse(out);
    assert.equal(raw, true, "scripts/permissions.txt must be -A (see docs/design.md)");
    assert.match(link, /a symbolic link/);
    assert.equal(await Deno.readTextFile(join(dir, "victim")), "keep me");
  }, "vpo-safe-open-");
});

Deno.test("links, FIFOs and hard links are refused without blocking; a rewrite replaces a link", async () => {
  await withTempDir(async (dir) => {
    const victim = join(dir, "victim");
    await Deno.writeTextFile(victim, "keep me");
    const link = join(dir, "link");
    await Deno.symlink(victim, link);
    const fifo = join(dir, "fifo");
    await mkfifo(fifo);
    const hard = join(dir, "hard");
    await Deno.link(victim, hard);

    for (const path of [link, fifo]) {
      assert.throws(() => readRegularFileSync(path), UnreadableFileError, path);
      assert.throws(() => openAppendSync(path), UnreadableFileError, path);
    }
    assert.throws(() => openAppendSync(hard), /2 names \(hard links\)/);
    // A dangling link is never created through.
    const dangling = join(dir, "dangling");
    await Deno.symlink(join(dir, "made-through-link"), dangling);
    assert.throws(() => createFileSync(dangling), Deno.errors.AlreadyExists);
    assert.throws(() => Deno.lstatSync(join(dir, "made-through-link")), Deno.errors.NotFound);
    // A rewrite replaces the link itself.
    replaceFileSync(link, "new");
    assert.equal(await Deno.readTextFile(victim), "keep me");
    assert.ok((await Deno.lstat(link)).isFile);
    assert.equal(readRegularFileSync(link), "new");
  }, "vpo-safe-open-");
});

Deno.test("a home directory that is a link or that others may write is refused for writes", async () => {
  await withTempDir(async (dir) => {
    const outside = join(dir, "outside");
    await Deno.mkdir(outside);
    await Deno.symlink(outside, join(dir, "logs"));
    assert.throws(() => createFileSync(join(dir, "logs", "a.log")), UntrustedDirectoryError);
    assert.throws(() => openAppendSync(join(dir, "logs", "a.log")), /a symbolic link/);
    assert.deepEqual([...Deno.readDirSync(outside)], []);
    // A media folder may be reached through a link (as a person set it up).
    createFileSync(join(dir, "logs", "temp"), { rule: "folder" }).close();

    const open = join(dir, "open");
    await Deno.mkdir(open);
    await Deno.chmod(open, 0o777);
    assert.throws(() => replaceFileSync(join(open, "x"), "x"), /writable by everyone/);
    await Deno.chmod(open, 0o770);
    assert.throws(() => replaceFileSync(join(open, "x"), "x"), /writable by group/);
    assert.deepEqual([...Deno.readDirSync(open)], []);
  }, "vpo-safe-open-");
});

Deno.test("without -A the checks that need none still hold: a swapped link is never written through", async () => {
  await withTempDir(async (dir) => {
    const victim = join(dir, "victim");
    await Deno.writeTextFile(victim, "keep me");
    const logs = join(dir, "logs");
    await Deno.mkdir(logs);
    const log = join(logs, "job.log");
    await Deno.writeTextFile(log, "");
    await Deno.symlink(victim, join(logs, "evil"));
    const racer = await Racer.start(log, join(logs, "evil"));
    try {
      const out = await runScript(
        ["--allow-read", "--allow-write", "--allow-sys=uid"],
        `import { openAppendSync, pathsReachKernel } from "${SAFE_OPEN}";
         let opened = 0;
         for (let i = 0; i < 3000; i++) {
           try {
             using file = openAppendSync(${JSON.stringify(log)});
             file.writeSync(new TextEncoder().encode("x"));
             opened++;
           } catch { /* refused: a link at the name */ }
         }
         console.log(JSON.stringify({ raw: pathsReachKernel(), opened }));`,
      );
      const { raw, opened } = JSON.parse(out);
      assert.equal(raw, false);
      assert.ok(opened > 0, "some opens found the real file");
    } finally {
      assert.ok(await racer.stop() > 0, "the racer swapped");
    }
    assert.equal(await Deno.readTextFile(victim), "keep me");
  }, "vpo-safe-open-");
});
