/**
 * The dashboard's exact-match label values (`status_class="5xx"`, `result="success"`) against a
 * real gateway's `/metrics`: dashboard_test.ts checks metric and label names, not values, and a
 * value the gateway never emits (`status_class="5XX"`, `result="ok"`) shows as an empty panel.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, startTestGateway } from "../helpers/gateway.ts";
import { REPO_ROOT } from "../helpers/process.ts";

interface Panel {
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every PromQL expression in the dashboard: panels, nested panels and annotations. */
function expressions(dashboard: {
  panels: Panel[];
  annotations: { list: { expr?: string }[] };
}): string[] {
  const walk = (ps: Panel[]): string[] =>
    ps.flatMap((p) => [
      ...(p.targets ?? []).flatMap((t) => t.expr ? [t.expr] : []),
      ...walk(p.panels ?? []),
    ]);
  return [
    ...walk(dashboard.panels),
    ...dashboard.annotations.list.flatMap((a) => a.expr ? [a.expr] : []),
  ];
}

const SELECTOR = /\b(ferry_[a-z0-9_]+)\s*\{([^}]*)\}/g;
/** `label="value"` (exact match only; regex matchers take variables). */
const EXACT = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"$]*)"/g;

Deno.test("every exact label value the dashboard matches on is one a gateway emits", async () => {
  const dashboard = JSON.parse(
    await Deno.readTextFile(join(REPO_ROOT, "dashboards", "ferry-grafana.json")),
  );
  // A refused upstream makes a 5xx; the initial load is a successful config load.
  const gw = await startTestGateway({
    upstreams: { down: { targets: [`http://127.0.0.1:${freePort()}`], retries: false } },
    routes: [{ name: "down", upstream: "down" }],
  });
  try {
    const res = await fetch(`${gw.url}/x`);
    await res.body?.cancel();
    assert.equal(res.status, 502);
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const checked: string[] = [];
    for (const expr of expressions(dashboard)) {
      for (const [, metric, body] of expr.matchAll(SELECTOR)) {
        for (const [, label, value] of body.matchAll(EXACT)) {
          const line = new RegExp(`^${metric}\\{[^}]*\\b${label}="${value}"`, "m");
          assert.match(text, line, `${metric}{${label}="${value}"} in: ${expr}`);
          checked.push(`${metric}{${label}="${value}"}`);
        }
      }
    }
    assert.ok(checked.length > 0, "the dashboard has no exact matchers: the test checks nothing");
  } finally {
    await gw.close();
  }
});
