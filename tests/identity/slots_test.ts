/** The semaphore bounding concurrent password checks: never more than `size`, FIFO order. */
import assert from "node:assert/strict";
import { Slots, SlotsFull } from "../../src/identity/slots.ts";

/** A task the test finishes by hand. */
function heldTask(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const task = async () => {
    log.push(`start ${name}`);
    await done;
    log.push(`end ${name}`);
    return name;
  };
  return { task, finish };
}

/** Lets every already-queued step run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("at most `size` tasks run at once; the others start in arrival order", async () => {
  const slots = new Slots(2);
  const log: string[] = [];
  const tasks = ["a", "b", "c", "d"].map((name) => heldTask(log, name));
  const results = tasks.map(({ task }) => slots.run(task));
  await settle();
  assert.deepEqual(log, ["start a", "start b"]);
  assert.equal(slots.waiting, 2);

  tasks[1].finish();
  await settle();
  assert.deepEqual(log, ["start a", "start b", "end b", "start c"]);
  tasks[0].finish();
  await settle();
  assert.deepEqual(log.slice(4), ["end a", "start d"]);
  tasks[2].finish();
  tasks[3].finish();
  assert.deepEqual(await Promise.all(results), ["a", "b", "c", "d"]);
  assert.equal(slots.waiting, 0);
});

Deno.test("a failing task frees its slot and passes its error on", async () => {
  const slots = new Slots(1);
  await assert.rejects(slots.run(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await slots.run(() => Promise.resolve("next")), "next");
});

Deno.test("past `maxWaiting` queued tasks, run refuses at once without running the task", async () => {
  const slots = new Slots(1, 2);
  const log: string[] = [];
  const tasks = ["a", "b", "c"].map((name) => heldTask(log, name));
  const results = tasks.map(({ task }) => slots.run(task));
  await settle();
  assert.equal(slots.waiting, 2);
  let ran = false;
  await assert.rejects(
    slots.run(() => {
      ran = true;
      return Promise.resolve("d");
    }),
    SlotsFull,
  );
  assert.equal(ran, false);
  assert.equal(slots.waiting, 2, "a refused task takes no place in the queue");
  for (const { finish } of tasks) finish();
  assert.deepEqual(await Promise.all(results), ["a", "b", "c"]);
  // Room again: the next task runs.
  assert.equal(await slots.run(() => Promise.resolve("e")), "e");
});
