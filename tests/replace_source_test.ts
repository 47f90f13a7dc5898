/**
 * The replace's last looks at the source, with real files: a source replaced while the output was
 * moved beside it stops the replace, and a source swapped before its old name is removed stays.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { ReplaceError, replaceOriginal } from "../src/replace/replace.ts";
import { ReplaceJournal, type ReplaceSteps } from "../src/replace/replace_journal.ts";
import { fileIdentity } from "../src/util/file_identity.ts";
import { Racer } from "./helpers/racer.ts";
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

Deno.test("a source's folder swapped for a link during the replace: nothing elsewhere is removed, replaced or made", async () => {
  await withTempDir(async (dir) => {
    // Someone who can rename the source's folder (a household member writing the library above
    // it) swaps it, over and over, with a link to a folder they cannot write, which holds films
    // of the source's names. A worker running as root (or as a user who may write that folder)
    // must never remove, replace or add a file there: every step of the replace reaches the
    // source's folder through one descriptor of it. Half the runs keep the name (the output is
    // renamed over the source, which is kept as a backup), half change the container.
    const media = join(dir, "media");
    const other = join(dir, "other");
    await Deno.mkdir(media);
    await Deno.mkdir(other);
    const runs = 300;
    const names = (i: number) =>
      i % 2 === 0
        ? { source: `film-${i}.avi`, final: `film-${i}.mkv` }
        : { source: `film-${i}.mkv`, final: `film-${i}.mkv` };
    const theirs = new Set<string>();
    for (let i = 0; i < runs; i++) {
      for (const name of new Set(Object.values(names(i)))) {
        await Deno.writeTextFile(join(other, name), "theirs");
        theirs.add(name);
      }
    }
    await Deno.symlink(other, `${media}.evil`);
    // The test's own way into the real folder, whatever its name holds.
    const fd = fs.openSync(media, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const real = `/proc/self/fd/${fd}`;
    try {
      const racer = await Racer.start(media, `${media}.evil`);
      try {
        for (let i = 0; i < runs; i++) {
          const { source, final } = names(i);
          const temp = `.vpo-${i}.partial`;
          await Deno.writeTextFile(join(real, source), "the original");
          await Deno.writeTextFile(join(real, temp), "the new output");
          const steps: ReplaceSteps = {
            phase: "encoding",
            source: join(media, source),
            source_id: await fileIdentity(join(real, source)),
            temp: join(media, temp),
            temp_ino: (await Deno.lstat(join(real, temp))).ino,
            final: join(media, final),
            backup: source === final ? join(media, `${source}.original`) : null,
          };
          const journal = new ReplaceJournal(() => Promise.resolve());
          await journal.record(steps);
          // Most runs fail on a step that met the link: what matters is what none of them did.
          await replaceOriginal(steps, journal, guard).catch(() => journal.resume()).catch(
            () => {},
          );
        }
      } finally {
        assert.ok(await racer.stop() > 0, "the racer swapped");
      }
      for (const entry of Deno.readDirSync(other)) {
        assert.ok(theirs.has(entry.name), `${entry.name} was made in the other folder`);
        assert.equal(await Deno.readTextFile(join(other, entry.name)), "theirs", entry.name);
      }
      assert.equal([...Deno.readDirSync(other)].length, theirs.size, "a file of theirs removed");
      for (let i = 0; i < runs; i++) {
        const { source, final } = names(i);
        const read = (name: string) => Deno.readTextFile(join(real, name)).catch(() => null);
        const kept = await read(source) === "the original" ||
          await read(`${source}.original`) === "the original";
        assert.ok(kept || await read(final) === "the new output", `film ${i} lost`);
      }
    } finally {
      fs.closeSync(fd);
    }
  });
});

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}
