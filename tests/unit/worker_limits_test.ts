/** When a worker must stop: `--end-by` and `--max-duration` resolved to one deadline. */
import assert from "node:assert/strict";
import { nextOccurrence, resolveLimits } from "../../src/worker/limits.ts";

const at = (h: number, m: number, s = 0) => new Date(2026, 10, 28, h, m, s);

Deno.test("--end-by is the next time the local clock shows it", () => {
  assert.deepEqual(nextOccurrence("06:00", at(22, 0)), new Date(2026, 10, 29, 6, 0));
  assert.deepEqual(nextOccurrence("06:00", at(5, 59, 30)), at(6, 0));
  // At 06:00 exactly, or just after, "by 06:00" means tomorrow's: never a deadline in the past.
  assert.deepEqual(nextOccurrence("06:00", at(6, 0)), new Date(2026, 10, 29, 6, 0));
  assert.deepEqual(nextOccurrence("00:00", at(23, 59)), new Date(2026, 10, 29, 0, 0));
});

Deno.test("the earlier of --max-duration and --end-by is the deadline, and says which", () => {
  const now = at(22, 0);
  const none = resolveLimits({ maxFiles: null, maxDurationSec: null, endBy: null }, now);
  assert.deepEqual(none, { maxFiles: null, deadline: null, deadlineSource: null });
  const duration = resolveLimits({ maxFiles: 5, maxDurationSec: 3600, endBy: "06:00" }, now);
  assert.deepEqual(duration, {
    maxFiles: 5,
    deadline: at(23, 0),
    deadlineSource: "--max-duration 3600",
  });
  const endBy = resolveLimits({ maxFiles: null, maxDurationSec: 28800 * 2, endBy: "05:59" }, now);
  assert.deepEqual(endBy.deadline, new Date(2026, 10, 29, 5, 59));
  assert.equal(endBy.deadlineSource, "--end-by 05:59");
});
