import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMetrics, CALL_OUTCOMES, REFUSAL_REASONS, RELOAD_RESULTS } from '../../src/observability/metrics.js';
import { ATTEMPT_RESULTS } from '../../src/observability/attempt-result.js';
import { CALL_ERROR_CODES } from '../../src/errors.js';

const read = (p: string): string => readFileSync(fileURLToPath(new URL(`../../${p}`, import.meta.url)), 'utf8');
const dashboard = JSON.parse(read('config/grafana-dashboard.json')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const alerts = read('config/prometheus-alerts.yml');

const metrics = createMetrics();
const registered = new Map<string, { type: string; labels: string[] }>();
for (const m of await metrics.registry.getMetricsAsJSON()) {
  const labelNames = (metrics.registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] }).labelNames ?? [];
  registered.set(m.name, { type: String(m.type), labels: labelNames });
}

/** The registered metric a series name belongs to (histogram _bucket/_sum/_count map to their base). */
function baseMetric(series: string): string | undefined {
  if (registered.has(series)) return series;
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  return m && registered.get(m[1]!)?.type === 'histogram' ? m[1] : undefined;
}

const METRIC = /\b((?:callrouter|process|nodejs)_[a-z0-9_]+)(\{[^}]*\})?/g;
const ALLOWED_VALUES: Record<string, Record<string, readonly string[]>> = {
  callrouter_calls_total: { outcome: CALL_OUTCOMES },
  callrouter_bridge_attempts_total: { result: ATTEMPT_RESULTS },
  callrouter_sessions_refused_total: { reason: REFUSAL_REASONS },
  callrouter_replica_reloads_total: { result: RELOAD_RESULTS },
  callrouter_call_errors_total: { code: Object.keys(CALL_ERROR_CODES) },
};

function checkExpressions(t: Test, where: string, exprs: string[]): void {
  let seen = 0;
  for (const expr of exprs) {
    for (const [, series, selector] of expr.matchAll(METRIC)) {
      seen++;
      const base = baseMetric(series!);
      t.ok(base, `${where}: ${series} exists in the registry`);
      if (!base || !selector) continue;
      for (const [, label, op, value] of selector.matchAll(/([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
        if (label === 'instance' || label === 'job') continue;
        t.ok(registered.get(base)!.labels.includes(label!), `${where}: ${base} has label ${label}`);
        const allowed = ALLOWED_VALUES[base]?.[label!];
        if (!allowed) continue;
        const values = op === '=' || op === '!=' ? [value!] : value!.split('|');
        for (const v of values) t.ok(allowed.includes(v), `${where}: ${base}{${label}} value ${v} is one we emit`);
      }
    }
  }
  t.ok(seen > 0, `${where} references metrics`);
}

t.test('every metric and label the Grafana dashboard queries exists', async (t) => {
  checkExpressions(t, 'dashboard', dashboard.panels.flatMap((p) => p.targets.map((x) => x.expr)));
});

t.test('the dashboard has the required panels', async (t) => {
  const titles = dashboard.panels.map((p) => p.title);
  for (const want of [/Calls by outcome/, /Bridge attempts by carrier and result/, /Failovers/, /Setup latency/, /Active sessions/, /Replica age/]) {
    t.ok(titles.some((x) => want.test(x)), String(want));
  }
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((x) => x.expr)).join('\n');
  t.match(exprs, /histogram_quantile\(0\.99, sum by \(le\) \(rate\(callrouter_setup_duration_seconds_bucket/);
  const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id);
  t.equal(new Set(ids).size, ids.length, 'panel ids unique');
});

t.test('every metric and label the alert rules use exists', async (t) => {
  const exprs: string[] = [];
  // Each rule's expr, single-line or a `|` block.
  const lines = alerts.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (m[2] !== '|') {
      exprs.push(m[2]!);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.startsWith(`${m[1]}  `) || lines[i + 1]!.trim() === '')) block.push(lines[++i]!);
    exprs.push(block.join('\n'));
  }
  const names = [...alerts.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  t.equal(exprs.length, names.length, 'one expr per alert');
  for (const want of ['CallrouterReplicaStale', 'CallrouterFailoverRateHigh', 'CallrouterCarrierNoAnswers', 'CallrouterNotReady']) {
    t.ok(names.includes(want), want);
  }
  checkExpressions(t, 'alerts', exprs);
  t.notMatch(alerts, /\t/, 'YAML has no tabs');
});
