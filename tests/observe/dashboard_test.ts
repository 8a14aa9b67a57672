/**
 * The Grafana dashboard in `dashboards/ferry-grafana.json` against a real gateway: the JSON
 * parses and is importable (a Prometheus datasource variable, unique panel ids and refIds, no
 * overlapping panels), and every metric it queries, every label it filters or groups on and
 * every `{{label}}` in a legend exists in a real gateway's `/metrics` after traffic (label
 * names of series that traffic did not create come from the gateway's own registry). A typo in a
 * query fails here instead of showing an empty panel in production.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { REPO_ROOT } from "../helpers/process.ts";

const DASHBOARD_PATH = join(REPO_ROOT, "dashboards", "ferry-grafana.json");

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ["instance", "job"];
/** Grafana's built-in variables. */
const BUILTIN_VARIABLES = ["__rate_interval", "__interval", "__range"];

/** The families the dashboard must chart, per the issue. */
const REQUIRED = [
  "ferry_requests_total",
  "ferry_request_duration_seconds_bucket",
  "ferry_upstream_duration_seconds_bucket",
  "ferry_requests_in_flight",
  "ferry_open_streams",
  "ferry_body_bytes_total",
  "ferry_upstream_healthy",
  "ferry_upstream_circuit_state",
  "ferry_upstream_retries_total",
  "ferry_upstream_retry_budget_exhausted_total",
  "ferry_upstream_ejections_total",
  "ferry_auth_failures_total",
  "ferry_config_reloads_total",
  "ferry_process_cpu_seconds_total",
  "ferry_process_resident_memory_bytes",
];

interface Target {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}

interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: {
    list: { type: string; name: string; query: string | { query: string } }[];
  };
  annotations: { list: { expr?: string; textFormat?: string }[] };
}

/** Metric sample names a gateway exposes, each with the label names it can carry. */
type KnownMetrics = Map<string, Set<string>>;

/** Every panel, those nested in collapsed rows included. */
function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Each PromQL expression of the dashboard with the legend that goes with it. */
function queries(dashboard: Dashboard): { where: string; expr: string; legend?: string }[] {
  const out: { where: string; expr: string; legend?: string }[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const t of panel.targets ?? []) {
      if (t.expr) {
        out.push({ where: `${panel.title}/${t.refId}`, expr: t.expr, legend: t.legendFormat });
      }
    }
  }
  for (const a of dashboard.annotations.list) {
    if (a.expr) out.push({ where: "annotation", expr: a.expr, legend: a.textFormat });
  }
  for (const v of dashboard.templating.list) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : v.query.query;
    out.push({ where: `variable ${v.name}`, expr: q });
  }
  return out;
}

const METRIC = /\bferry_[a-z0-9_]+\b/g;
const SELECTOR = /\b(ferry_[a-z0-9_]+)\s*\{([^}]*)\}/g;
const MATCHER = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"/g;
const GROUPING = /\b(?:by|without)\s*\(([^)]*)\)/g;
const LABEL_VALUES = /label_values\(\s*(ferry_[a-z0-9_]+)[^,]*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)/g;
const LEGEND_LABEL = /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;
const VARIABLE = /\$(?:\{(\w+)\}|(\w+))/g;

/** Everything wrong with the dashboard's queries, given the metrics a gateway exposes. */
function problemsOf(dashboard: Dashboard, known: KnownMetrics): string[] {
  const problems: string[] = [];
  const variables = new Set([
    ...dashboard.templating.list.map((v) => v.name),
    ...BUILTIN_VARIABLES,
  ]);
  for (const { where, expr, legend } of queries(dashboard)) {
    // Label values are quoted; a value never counts as a metric name.
    const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const metrics = [...new Set(unquoted.match(METRIC) ?? [])];
    if (metrics.length === 0) problems.push(`${where}: queries no ferry_ metric: ${expr}`);
    const labels = new Set(TARGET_LABELS);
    for (const m of metrics) {
      const own = known.get(m);
      if (!own) problems.push(`${where}: unknown metric ${m}`);
      for (const l of own ?? []) labels.add(l);
    }
    for (const [, metric, body] of expr.matchAll(SELECTOR)) {
      for (const [, label] of body.matchAll(MATCHER)) {
        const own = known.get(metric);
        if (own && !own.has(label) && !TARGET_LABELS.includes(label)) {
          problems.push(`${where}: ${metric} has no label ${label}`);
        }
      }
    }
    for (const [, list] of unquoted.matchAll(GROUPING)) {
      for (const label of list.split(",").map((l) => l.trim()).filter(Boolean)) {
        if (!labels.has(label)) problems.push(`${where}: groups by unknown label ${label}`);
      }
    }
    for (const [, metric, label] of expr.matchAll(LABEL_VALUES)) {
      const own = known.get(metric);
      if (own && !own.has(label) && !TARGET_LABELS.includes(label)) {
        problems.push(`${where}: label_values on ${metric} of unknown label ${label}`);
      }
    }
    for (const [, label] of (legend ?? "").matchAll(LEGEND_LABEL)) {
      if (!labels.has(label)) problems.push(`${where}: legend shows unknown label ${label}`);
    }
    for (const [, braced, bare] of expr.matchAll(VARIABLE)) {
      const name = braced ?? bare;
      if (!variables.has(name)) problems.push(`${where}: undefined variable $${name}`);
    }
  }
  return problems;
}

/**
 * Runs a gateway with every kind of series the dashboard charts (routes, a retrying upstream, an
 * identity policy), sends traffic through it, and returns what it exposes: sample names from
 * `/metrics` with their labels, plus the label names each registered family declares.
 */
async function gatewayMetrics(): Promise<{ known: KnownMetrics; exposition: string }> {
  let calls = 0;
  const api = startUpstream(() =>
    ++calls === 1 ? new Response("busy", { status: 503 }) : new Response("ok")
  );
  const spare = startUpstream(() => new Response("ok"));
  const gw = await startTestGateway({
    upstreams: {
      api: { targets: [api.url, spare.url], retries: { backoff: { base: "1ms", max: "1ms" } } },
      down: { targets: [`http://127.0.0.1:${freePort()}`], retries: false },
    },
    routes: [
      {
        name: "secure",
        match: { path: "/secure" },
        upstream: "api",
        use: [{ kind: "apiKey", options: { keysEnv: "DASHBOARD_TEST_KEYS" } }],
      },
      { name: "down", match: { path: "/down" }, upstream: "down" },
      { name: "all", upstream: "api" },
    ],
  }, { env: { DASHBOARD_TEST_KEYS: "ops:dashboard-test-key" } });
  try {
    for (
      const [path, headers] of [
        ["/a", {}],
        ["/b", {}],
        ["/secure", {}],
        ["/secure", { "x-api-key": "dashboard-test-key" }],
        ["/down", {}],
      ] as const
    ) {
      const res = await fetch(`${gw.url}${path}`, { headers });
      await res.body?.cancel();
    }
    const res = await fetch(`${gw.adminUrl}/metrics`);
    const exposition = await res.text();
    const known: KnownMetrics = new Map();
    const add = (name: string, labels: Iterable<string>) => {
      const set = known.get(name) ?? new Set<string>();
      for (const l of labels) set.add(l);
      known.set(name, set);
    };
    for (const line of exposition.split("\n")) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) {
        const [, name, kind] = type;
        if (kind === "histogram") {
          add(`${name}_bucket`, ["le"]);
          add(`${name}_sum`, []);
          add(`${name}_count`, []);
        } else add(name, []);
        continue;
      }
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
      if (sample) add(sample[1], [...(sample[2] ?? "").matchAll(/(\w+)="/g)].map((m) => m[1]));
    }
    // Families with no sample yet (no ejection happened) still declare their labels.
    for (const metric of gw.metrics.registry.getMetricsAsArray()) {
      const { name, labelNames } = metric as unknown as { name: string; labelNames?: string[] };
      for (const sampleName of [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]) {
        if (known.has(sampleName)) add(sampleName, labelNames ?? []);
      }
    }
    return { known, exposition };
  } finally {
    await gw.close();
    await api.close();
    await spare.close();
  }
}

const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD_PATH)) as Dashboard;

Deno.test("the dashboard is importable: datasource variable, unique ids, panels laid out", () => {
  assert.equal(typeof dashboard.title, "string");
  assert.match(dashboard.uid, /^[a-zA-Z0-9_-]{1,40}$/);
  assert.ok(dashboard.schemaVersion >= 36);
  const ds = dashboard.templating.list.find((v) => v.type === "datasource");
  assert.ok(ds, "a datasource variable");
  assert.equal(ds.query, "prometheus");

  const panels = allPanels(dashboard);
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, "unique panel ids");
  for (const p of panels) {
    const { x, y, w, h } = p.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, `${p.title} off the grid`);
    if (p.type === "row") continue;
    assert.equal(p.datasource?.uid, "${datasource}", `${p.title} uses the datasource variable`);
    assert.ok(p.targets?.length, `${p.title} has queries`);
    const refIds = p.targets!.map((t) => t.refId);
    assert.equal(new Set(refIds).size, refIds.length, `${p.title}: unique refIds`);
    for (const t of p.targets!) assert.equal(t.datasource?.uid ?? "${datasource}", "${datasource}");
  }
  for (let i = 0; i < panels.length; i++) {
    for (let j = i + 1; j < panels.length; j++) {
      const a = panels[i].gridPos, b = panels[j].gridPos;
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      assert.ok(!overlap, `${panels[i].title} overlaps ${panels[j].title}`);
    }
  }
});

Deno.test("every metric, label and variable the dashboard uses exists on a real gateway", async () => {
  const { known, exposition } = await gatewayMetrics();
  // The traffic produced the series that make the label check meaningful.
  assert.match(exposition, /^ferry_upstream_retries_total\{upstream="api"\} 1$/m);
  assert.match(exposition, /^ferry_auth_failures_total\{policy="apiKey",reason="\w+"\} 1$/m);
  assert.deepEqual(problemsOf(dashboard, known), []);

  const used = new Set(queries(dashboard).flatMap(({ expr }) => expr.match(METRIC) ?? []));
  assert.deepEqual(REQUIRED.filter((m) => !used.has(m)), [], "charted families");

  // The checker itself catches the typos it exists for.
  const typo = (from: string, to: string) =>
    problemsOf(JSON.parse(JSON.stringify(dashboard).replaceAll(from, to)), known);
  assert.ok(typo("ferry_requests_total", "ferry_request_total").length > 0, "metric name");
  assert.ok(typo("by (route, status_class)", "by (route, status)").length > 0, "grouping");
  assert.ok(typo('route=~\\"$route\\"', 'rout=~\\"$route\\"').length > 0, "matcher");
  assert.ok(typo("{{status_class}}", "{{statusclass}}").length > 0, "legend");
  assert.ok(typo("$__rate_interval", "$rate_interval").length > 0, "variable");
});
