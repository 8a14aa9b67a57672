/**
 * Shadowed-route detection: a route that can never match because an earlier route takes all of
 * its traffic. It only warns when it is sure (the earlier route's conditions are a subset of the
 * later one's and its path covers the later path), so a warning is always worth reading.
 */
import type { ConfigIssue, NormalizedRoute } from "../config/normalized.ts";
import { type CompiledRoute, compileRoute } from "./route_table.ts";

/** Warnings for every route an earlier route fully covers. Routes must already be valid. */
export function findShadowedRoutes(routes: readonly NormalizedRoute[]): ConfigIssue[] {
  const compiled = routes.map(compileRoute);
  const issues: ConfigIssue[] = [];
  for (let b = 0; b < compiled.length; b++) {
    for (let a = 0; a < b; a++) {
      if (covers(compiled[a], compiled[b])) {
        issues.push({
          severity: "warning",
          path: `routes[${b}]`,
          message: `route "${compiled[b].config.name}" can never match: routes[${a}] ("${
            compiled[a].config.name
          }") takes all of its traffic. Move it above routes[${a}] or narrow routes[${a}].match`,
        });
        break;
      }
    }
  }
  return issues;
}

function covers(a: CompiledRoute, b: CompiledRoute): boolean {
  const am = a.config.match, bm = b.config.match;
  return coversList(am.hosts, bm.hosts, hostCovers) &&
    coversList(am.methods, bm.methods, methodCovers) &&
    conditionsSubset(am.headers, bm.headers) &&
    conditionsSubset(am.query, bm.query) &&
    pathCovers(a, b);
}

/** An empty list means "any"; otherwise every value of b must be covered by one of a. */
function coversList(
  a: readonly string[],
  b: readonly string[],
  itemCovers: (x: string, y: string) => boolean,
): boolean {
  if (a.length === 0) return true;
  if (b.length === 0) return false;
  return b.every((y) => a.some((x) => itemCovers(x, y)));
}

/** `*.example.com` takes `api.example.com` and `*.eu.example.com`, as matching does. */
function hostCovers(x: string, y: string): boolean {
  if (x === y) return true;
  if (!x.startsWith("*.")) return false;
  const suffix = x.slice(1);
  const name = y.startsWith("*.") ? y.slice(2) : y;
  return name.length > suffix.length && name.endsWith(suffix);
}

/** A `GET` route also takes `HEAD`. */
function methodCovers(x: string, y: string): boolean {
  return x === y || (x === "GET" && y === "HEAD");
}

/** a's conditions must all appear, identically, among b's. */
function conditionsSubset(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return Object.entries(a).every(([k, v]) => k in b && JSON.stringify(b[k]) === JSON.stringify(v));
}

function pathCovers(a: CompiledRoute, b: CompiledRoute): boolean {
  const as = a.path.segments, bs = b.path.segments;
  if (a.path.prefix) {
    if (bs.length < as.length) return false;
  } else if (b.path.prefix || bs.length !== as.length) return false;
  for (let i = 0; i < as.length; i++) {
    const x = as[i], y = bs[i];
    if (x.kind === "param") {
      if (x.constraint) {
        // A constrained param only surely covers the same constrained param.
        if (y.kind !== "param" || y.constraint?.source !== x.constraint.source) return false;
      } else if (y.kind === "literal" && y.value === "") return false;
    } else if (y.kind !== "literal" || y.value !== x.value) return false;
  }
  return true;
}
