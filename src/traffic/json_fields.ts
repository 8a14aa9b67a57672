/**
 * Removes fields from a parsed JSON value by dotted path, so that values expected to differ
 * between two answers (`timestamp`, `meta.requestId`) do not count as a difference. A path that
 * meets an array applies to every element: `items.id` removes `id` from each item.
 */

/** Paths split once, when a snapshot is built. */
export type JsonPaths = readonly (readonly string[])[];

export function compileJsonPaths(paths: readonly string[]): JsonPaths {
  return paths.map((p) => p.split("."));
}

/** Removes every path from `value` in place, and returns it. */
export function removeJsonFields(value: unknown, paths: JsonPaths): unknown {
  for (const path of paths) remove(value, path, 0);
  return value;
}

function remove(value: unknown, path: readonly string[], at: number): void {
  if (Array.isArray(value)) {
    for (const item of value) remove(item, path, at);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const record = value as Record<string, unknown>;
  const key = path[at];
  if (!Object.hasOwn(record, key)) return;
  if (at === path.length - 1) delete record[key];
  else remove(record[key], path, at + 1);
}
