import assert from "node:assert/strict";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";
import { claimCores } from "../src/worker/cpu_claim.ts";
import { coreListText, launchCommand } from "../src/media/ffmpeg_runner.ts";
import { VpoHome } from "../src/queue/layout.ts";
import { withTempDir } from "./helpers/temp.ts";

Deno.test("workers with the same --cpu-cores take different cores while free ones last", async () => {
  await withTempDir(async (root) => {
    const home = new VpoHome(root);
    const first = await claimCores(home, 2, 5);
    const second = await claimCores(home, 2, 5);
    const third = await claimCores(home, 2, 5);
    try {
      assert.deepEqual([first.cores, first.shared], [[0, 1], 0]);
      assert.deepEqual([second.cores, second.shared], [[2, 3], 0]);
      // One core left: the other is shared, and says so.
      assert.deepEqual([third.cores, third.shared], [[0, 4], 1]);
      first.release();
      const again = await claimCores(home, 2, 5);
      assert.deepEqual([again.cores, again.shared], [[0, 1], 0]);
      again.release();
    } finally {
      for (const c of [first, second, third]) c.release();
    }
  });
});

Deno.test("a SIGKILLed worker's cores are free again at once (the kernel drops its flock)", async () => {
  await withTempDir(async (root) => {
    const home = new VpoHome(root);
    const code = `import { claimCores } from "${new URL(
      "../src/worker/cpu_claim.ts",
      import.meta.url,
    )}";
      import { VpoHome } from "${new URL("../src/queue/layout.ts", import.meta.url)}";
      const c = await claimCores(new VpoHome(${JSON.stringify(root)}), 2, 4);
      console.log(c.cores.join(","));
      setInterval(() => {}, 60_000);`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...CLI_PERMISSIONS, "-"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(code));
    await writer.close();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value?.trim(), "0,1");
    const busy = await claimCores(home, 2, 4);
    assert.deepEqual(busy.cores, [2, 3]);
    busy.release();
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    const after = await claimCores(home, 2, 4);
    assert.deepEqual(after.cores, [0, 1]);
    after.release();
  });
});

Deno.test("taskset gets the claimed core list", () => {
  assert.equal(coreListText([0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
  const cmd = launchCommand("ffmpeg", ["-version"], { cpuSet: [2, 3], nice: null });
  if (cmd[0] === "taskset") assert.deepEqual(cmd.slice(0, 3), ["taskset", "-c", "2-3"]);
});
