/**
 * What changed between two configs, by name: routes, upstreams and policies added, removed or
 * changed. Printed at start-up and on every reload, and used to decide which open streams belong
 * to changed routes.
 */
import type { NormalizedConfig, NormalizedRoute } from "./normalized.ts";

/** Names added, removed and changed in one section. */
export interface SectionDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/** The whole diff. */
export interface ConfigDiff {
  routes: SectionDiff;
  upstreams: SectionDiff;
  policies: SectionDiff;
  /** Listener, admin, limits, trust or access-log settings changed. */
  settingsChanged: boolean;
}

function diffSection<T>(
  before: Record<string, T>,
  after: Record<string, T>,
  same: (a: T, b: T) => boolean,
): SectionDiff {
  const d: SectionDiff = { added: [], removed: [], changed: [] };
  for (const name of Object.keys(after)) {
    if (!(name in before)) d.added.push(name);
    else if (!same(before[name], after[name])) d.changed.push(name);
  }
  for (const name of Object.keys(before)) if (!(name in after)) d.removed.push(name);
  return d;
}

const json = (v: unknown) => JSON.stringify(v);

/**
 * A route's effective definition: its own config (without its position) plus the definitions
 * of the upstream and named policies it uses. A route whose upstream changed has changed.
 */
export function effectiveRoute(config: NormalizedConfig, route: NormalizedRoute): string {
  const { index: _index, ...own } = route;
  return json({
    own,
    // Every upstream the route may send to: a change to any of them changes the route.
    upstreams: routeUpstreams(route).map((name) => config.upstreams[name]),
    policies: route.use.map((u) => (u.ref ? config.policies[u.ref] : u.descriptor)),
  });
}

/** The names of the upstreams a route may forward or mirror to. */
function routeUpstreams(route: NormalizedRoute): string[] {
  const names = new Set<string>();
  if (route.upstream) names.add(route.upstream);
  for (const t of route.split?.targets ?? []) names.add(t.upstream);
  for (const rule of route.canary ?? []) names.add(rule.upstream);
  if (route.mirror) names.add(route.mirror.upstream);
  return [...names];
}

/** Diffs `before` → `after`. `before` may be undefined (start-up: everything is added). */
export function diffConfigs(
  before: NormalizedConfig | undefined,
  after: NormalizedConfig,
): ConfigDiff {
  const routesOf = (c: NormalizedConfig | undefined) =>
    Object.fromEntries((c?.routes ?? []).map((r) => [r.name, effectiveRoute(c!, r)]));
  const settings = (c: NormalizedConfig | undefined) =>
    c && json([c.listen, c.admin, c.limits, c.trust, c.accessLog, c.reload]);
  return {
    routes: diffSection(routesOf(before), routesOf(after), (a, b) => a === b),
    upstreams: diffSection(before?.upstreams ?? {}, after.upstreams, (a, b) => json(a) === json(b)),
    policies: diffSection(before?.policies ?? {}, after.policies, (a, b) => json(a) === json(b)),
    settingsChanged: before !== undefined && settings(before) !== settings(after),
  };
}

/** Route names whose open streams must close: changed or removed. */
export function affectedRoutes(diff: ConfigDiff): Set<string> {
  return new Set([...diff.routes.changed, ...diff.routes.removed]);
}

function sectionText(d: SectionDiff): string {
  const parts = [
    ...d.added.map((n) => `+${n}`),
    ...d.changed.map((n) => `~${n}`),
    ...d.removed.map((n) => `-${n}`),
  ];
  return parts.length ? parts.join(" ") : "(unchanged)";
}

/** The diff as short lines by section (`+added ~changed -removed`), for logs. */
export function diffSummary(diff: ConfigDiff): Record<string, string> {
  const summary: Record<string, string> = {
    routes: sectionText(diff.routes),
    upstreams: sectionText(diff.upstreams),
    policies: sectionText(diff.policies),
  };
  if (diff.settingsChanged) summary.settings = "changed (listen/admin changes apply on restart)";
  return summary;
}
