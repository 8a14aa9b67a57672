/**
 * Removes fields from a parsed JSON value by dotted path, so that values expected to differ
 * between two answers (`timestamp`, `meta.requestId`) do not count as a difference. A path that
 * meets an array applies to every element: `items.id` removes `id` from each item.
 */

const isRawJson = (value: object): boolean =>
  (JSON as unknown as { isRawJSON(value: unknown): boolean }).isRawJSON(value);

/** Paths split once, when a snapshot is built. */
export type JsonPaths = readonly (readonly string[])[];

export function compileJsonPaths(paths: readonly string[]): JsonPaths {
  return paths.map((p) => p.split("."));
}

/** Removes every path from `value` in place, and returns it. */
export function removeJsonFields(value: unknown, paths: JsonPaths): unknown {
  for (const path of paths) remove(value, path);
  return value;
}

/**
 * A walk with its own stack, not recursion: the body is an upstream's, and a small one can nest
 * arrays ten thousand deep (`[[[[…]]]]` is 20 KB), which would overflow the call stack. That
 * error would surface while the client's response is being hashed.
 */
function remove(root: unknown, path: readonly string[]): void {
  const pending: { value: unknown; at: number }[] = [{ value: root, at: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, at } = next;
    if (Array.isArray(value)) {
      for (const item of value) pending.push({ value: item, at });
      continue;
    }
    // A number kept exactly (`JSON.rawJSON`, see body_digest.ts) is an object too, not a record.
    if (typeof value !== "object" || value === null || isRawJson(value)) continue;
    const record = value as Record<string, unknown>;
    const key = path[at];
    if (!Object.hasOwn(record, key)) continue;
    if (at === path.length - 1) delete record[key];
    else pending.push({ value: record[key], at: at + 1 });
  }
}
