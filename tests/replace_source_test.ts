/**
 * The replace's last looks at the source, with real files: a source replaced while the output was
 * moved beside it stops the replace, and a source swapped before its old name is removed stays.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ReplaceError, replaceOriginal } from "../src/replace/replace.ts";
import { ReplaceJournal, type ReplaceSteps } from "../src/replace/replace_journal.ts";
import { fileIdentity } from "../src/util/file_identity.ts";
import { withTempDir } from "./helpers/temp.ts";

async function world(dir: string, finalName: string) {
  const source = join(dir, "film.mkv");
  const temp = join(dir, ".vpo-0123456789abcdef0123456789abcdef.0123456789ab.film.mkv.partial");
  await Deno.writeTextFile(source, "the original");
  await Deno.writeTextFile(temp, "the new output");
  const steps: ReplaceSteps = {
    phase: "encoding",
    source,
    source_id: await fileIdentity(source),
    temp,
    temp_ino: (await Deno.lstat(temp)).ino,
    final: join(dir, finalName),
    backup: `${source}.original`,
  };
  const recorded: ReplaceSteps[] = [];
  const journal = new ReplaceJournal((s) => {
    recorded.push(s);
    return Promise.resolve();
  });
  await journal.record(steps);
  return { source, temp, steps, journal, recorded };
}

const guard = {
  fence: () => Promise.resolve(),
  permissions: { mode: 0o644, uid: null, gid: null },
};

Deno.test("a source that changed while the output was moved stops the replace; nothing is swapped", async () => {
  await withTempDir(async (dir) => {
    const w = await world(dir, "film.mkv");
    await assert.rejects(
      replaceOriginal(w.steps, w.journal, {
        ...guard,
        sourceChange: () => Promise.resolve("the source's size changed"),
      }),
      (err) =>
        err instanceof ReplaceError && /size changed while the output was moved/.test(err.message),
    );
    assert.equal(await Deno.readTextFile(w.source), "the original");
    assert.equal(await Deno.readTextFile(w.temp), "the new output");
    assert.ok(!w.recorded.some((s) => s.phase === "replacing"), "nothing recorded past the check");
    await assert.rejects(Deno.lstat(`${w.source}.original`), Deno.errors.NotFound);
  });
});

Deno.test("under a new name, a source replaced before its old name goes is left where it is", async () => {
  await withTempDir(async (dir) => {
    const w = await world(dir, "film.mp4");
    const fence = async () => {
      // Another program puts a new file at the source's name just before vpo would remove it.
      if (w.recorded.at(-1)?.phase === "replacing" && (await exists(join(dir, "film.mp4")))) {
        await Deno.remove(w.source);
        await Deno.writeTextFile(w.source, "a newer download");
      }
    };
    await replaceOriginal(w.steps, w.journal, { ...guard, fence });
    assert.equal(await Deno.readTextFile(join(dir, "film.mp4")), "the new output");
    assert.equal(await Deno.readTextFile(w.source), "a newer download");
    assert.equal(await Deno.readTextFile(`${w.source}.original`), "the original");
  });
});

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}
