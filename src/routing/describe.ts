/** The compiled route table as rows, for `routes` on the CLI and `/routes` on the admin API. */
import { describeAction } from "./explain.ts";
import type { RouteTable } from "./route_table.ts";

/** One route as shown to people. */
export interface RouteRow {
  index: number;
  name: string;
  host: string;
  path: string;
  methods: string;
  conditions: string[];
  action: string;
}

/** Rows in match order. */
export function describeRoutes(table: RouteTable): RouteRow[] {
  return table.routes.map((r) => ({
    index: r.config.index,
    name: r.config.name,
    host: r.config.match.hosts.join(",") || "*",
    path: r.path.source,
    methods: r.config.match.methods.join(",") || "*",
    conditions: r.conditions.filter((c) => c.label !== "host" && c.label !== "method")
      .map((c) => c.label),
    action: describeAction(r),
  }));
}

/** A fixed-width text table. */
export function formatRouteTable(rows: readonly RouteRow[]): string {
  const header = ["#", "name", "host", "path", "methods", "conditions", "action"];
  const cells = rows.map((r) => [
    String(r.index),
    r.name,
    r.host,
    r.path,
    r.methods,
    r.conditions.join(", ") || "-",
    r.action,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...cells.map(line)].join("\n");
}
