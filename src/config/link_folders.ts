/**
 * The folders holding the symlinks a path goes through. A watch on a file's folder sees edits
 * of the file, but not a symlink on its way being swapped: that is an event in the folder that
 * holds the link. A Kubernetes ConfigMap key with a folder in its path (`conf/ferry.config.ts`
 * is reached through `conf -> ..data/conf` and `..data -> ..2026_11_23_...`), a deploy that
 * swaps a `current -> releases/42` link, or a config file that is itself a link into another
 * folder would otherwise update unseen.
 */
import { dirname, isAbsolute, join, resolve, sep } from "node:path";

/** Links followed at most while resolving one path (Linux's own limit is 40). */
const MAX_LINKS = 40;

/**
 * For an absolute `path`: the folder of every symlink met while resolving it, and the real
 * folder of the file when the file itself is a link. Stops quietly at a missing or unreadable part, or a loop of links; what it
 * found so far is still returned.
 */
export async function linkFolders(path: string): Promise<string[]> {
  const folders = new Set<string>();
  let current = resolve(path);
  let links = 0;
  let fileIsLink = false;
  walk: for (;;) {
    const parts = current.split(sep).filter((p) => p !== "");
    let prefix: string = sep;
    for (let i = 0; i < parts.length; i++) {
      prefix = join(prefix, parts[i]);
      let target: string;
      try {
        if (!(await Deno.lstat(prefix)).isSymlink) continue;
        target = await Deno.readLink(prefix);
      } catch (error) {
        // A folder outside what Ferry may read (`--allow-read=/etc/ferry` refuses `/etc`) is
        // passed over: its links are not Ferry's to watch, and the parts below it may be.
        if (error instanceof Deno.errors.NotCapable) continue;
        break walk;
      }
      if (++links > MAX_LINKS) break walk;
      if (i === parts.length - 1) fileIsLink = true;
      // Links in the root folder are the system's layout (macOS's /tmp and /var, a merged
      // /usr's /bin), never swapped; a watch on / would see the whole disk on macOS.
      if (dirname(prefix) !== sep) folders.add(dirname(prefix));
      const base = isAbsolute(target) ? target : resolve(dirname(prefix), target);
      current = resolve(base, ...parts.slice(i + 1));
      continue walk;
    }
    // Every part resolved. A file that is a link may point into a folder watched nowhere
    // else, where its target is edited in place; a watch on the link's folder (through the
    // folder links before it) already covers any other file.
    if (fileIsLink) folders.add(dirname(current));
    break;
  }
  return [...folders];
}
