/**
 * Watches the folders of a config and its local imports. Folders, not files: an editor's
 * save-by-rename replaces the file, and a watch on the old file would go quiet. Kubernetes
 * ConfigMaps swap a symlinked folder, which shows up as events on other names, so any event in
 * a watched folder schedules a (debounced) check; the content fingerprint decides whether
 * anything really changed.
 */
import { dirname } from "node:path";

/** A running watch; `close()` stops it. */
export interface FolderWatch {
  close(): void;
}

/** Calls `onChange` once per burst of events (quiet for `debounceMs`) in the given folders. */
export function watchFolders(
  files: readonly string[],
  debounceMs: () => number,
  onChange: () => void,
): FolderWatch {
  const folders = [...new Set(files.map((f) => dirname(f)))];
  const watcher = Deno.watchFs(folders, { recursive: false });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (!closed) onChange();
        }, debounceMs());
      }
    } catch {
      // The watcher ends when closed, or when a watched folder disappears; the next reload
      // re-creates it from the current import set.
    }
  })();
  return {
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
