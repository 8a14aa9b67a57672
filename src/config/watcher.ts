/**
 * Watches the folders of a config and its local imports. Folders, not files: an editor's
 * save-by-rename replaces the file, and a watch on the old file would go quiet. Kubernetes
 * ConfigMaps swap a symlinked folder, which shows up as events on other names, so any event in
 * a watched folder schedules a (debounced) check; the content fingerprint decides whether
 * anything really changed.
 *
 * A watch follows folders, not paths: one that is deleted and recreated (`rm -rf policies`, a
 * deploy that copies a fresh tree) is a new folder the old watch never sees. And a folder that
 * does not exist yet (a custom module named before it is written) cannot be watched at all, so
 * its nearest existing ancestor is watched instead, where its creation shows up. A symlink on
 * the way to a file (a ConfigMap key in a folder, a `current -> releases/42` deploy) is watched
 * in the folder that holds it, where its swap shows up. The reloader compares
 * {@link WatchTargets.key} on every reload and watches again when it moved.
 */
import { dirname } from "node:path";
import { linkFolders } from "./link_folders.ts";

/** A running watch; `close()` stops it. */
export interface FolderWatch {
  close(): void;
  /** True once the watch stopped by itself (an error from the OS): it must be replaced. */
  readonly ended: boolean;
}

/** The folders to watch for a set of files, and a key that changes when they should change. */
export interface WatchTargets {
  folders: string[];
  /** Each folder with its inode: a folder deleted and recreated under the same path differs. */
  key: string;
}

/**
 * Each file's folder, or its nearest existing ancestor while that folder is missing, and the
 * folders of the symlinks on its way (see `link_folders.ts`). Never throws: an unreadable folder
 * counts as missing.
 */
export async function watchTargets(files: readonly string[]): Promise<WatchTargets> {
  const wanted = new Set(files.map((f) => dirname(f)));
  for (const file of files) for (const folder of await linkFolders(file)) wanted.add(folder);
  const found = new Map<string, number | null>();
  for (let folder of [...wanted].sort()) {
    for (;;) {
      const ino = await folderInode(folder);
      if (ino !== undefined) {
        found.set(folder, ino);
        break;
      }
      const parent = dirname(folder);
      if (parent === folder) break; // not even the root: nothing to watch for this one
      folder = parent;
    }
  }
  const folders = [...found.keys()].sort();
  return { folders, key: folders.map((f) => `${f}\0${found.get(f)}`).join("\n") };
}

/** The folder's inode (`null` where the OS has none), or undefined when it is not a folder. */
async function folderInode(path: string): Promise<number | null | undefined> {
  try {
    const info = await Deno.stat(path);
    return info.isDirectory ? info.ino : undefined;
  } catch {
    return undefined;
  }
}

/** How many debounce periods a burst of events that never goes quiet is held at most. */
const MAX_WAIT_DEBOUNCES = 10;

/**
 * Calls `onChange` once per burst of events (quiet for `debounceMs`, or at most
 * {@link MAX_WAIT_DEBOUNCES} of them since the burst began) in the given folders.
 * Throws when the OS refuses the watch (a folder gone since {@link watchTargets}, too many
 * watches): the caller keeps its previous watch then.
 */
export function watchFolders(
  folders: readonly string[],
  debounceMs: () => number,
  onChange: () => void,
): FolderWatch {
  const watcher = Deno.watchFs([...folders], { recursive: false });
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the first event of the burst now waiting for its check arrived. */
  let burstStart: number | undefined;
  let closed = false;
  let ended = false;
  (async () => {
    try {
      for await (const event of watcher) {
        // An event already delivered when `close()` ran must not start a timer nobody clears.
        if (closed) break;
        if (event.kind === "access") continue;
        clearTimeout(timer);
        const now = performance.now();
        burstStart ??= now;
        const debounce = debounceMs();
        // A folder that never goes quiet (an access log written next to the config every 100
        // ms) must not hold a save back for ever: a burst is checked at the latest after
        // MAX_WAIT_DEBOUNCES debounce periods, and a check of an unchanged config is cheap.
        const latest = burstStart + debounce * MAX_WAIT_DEBOUNCES;
        timer = setTimeout(() => {
          burstStart = undefined;
          if (!closed) onChange();
        }, Math.max(0, Math.min(debounce, latest - now)));
      }
    } catch {
      // Reported through `ended`: the next reload watches again.
    }
    ended = true;
  })();
  return {
    get ended() {
      return ended;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      try {
        watcher.close();
      } catch {
        // already closed
      }
    },
  };
}
