import { unusedPort } from "./target.ts";

/** A real nginx serving static files from a temporary root, one process, stopped by `close`. */
export interface Nginx {
  port: number;
  close(): Promise<void>;
}

export interface NginxOptions {
  /** Files to serve, by path under the root (`"one-k.txt"`). */
  files: Record<string, Uint8Array | string>;
  /** Extra directives inside `server { }`. */
  server?: string;
}

const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => exists(p)) ?? "nginx";

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-nginx-" });
  const root = `${dir}/www`;
  await Deno.mkdir(root);
  for (const [name, content] of Object.entries(options.files)) {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    await Deno.writeFile(`${root}/${name}`, bytes);
  }
  const port = unusedPort();
  // One process (no master, no workers as another user) so the temp root stays readable and
  // killing one pid stops it all.
  const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 10000;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    ${options.server ?? ""}
  }
}
`;
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  const child = new Deno.Command(NGINX, {
    args: ["-c", `${dir}/nginx.conf`, "-p", dir],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await waitForPort(port, child.status);
  } catch (e) {
    await close();
    throw new Error(`nginx did not start: ${await stderr}`, { cause: e });
  }
  return { port, close };
}

/** Resolves once `port` accepts connections; rejects if the process exits first. */
async function waitForPort(port: number, exited: Promise<Deno.CommandStatus>): Promise<void> {
  let gone = false;
  exited.then(() => gone = true);
  const deadline = Date.now() + 10_000;
  while (!gone && Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      // Not listening yet: nginx opens its socket a few milliseconds after starting.
      await new Promise<void>((resolve) => queueMicrotask(resolve));
    }
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
