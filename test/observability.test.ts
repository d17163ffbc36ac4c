/**
 * What operators point their tools at: `token_swap_build_info`, and the Grafana dashboard
 * (docs/grafana-dashboard.json), whose every query must be valid PromQL over metric names a running
 * service really exports. Expressions are parsed with Prometheus' own grammar (@prometheus-io/lezer-promql).
 */
import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import { beforeAll, describe, expect, it } from 'vitest';
import { metric } from './helpers/metrics.js';
import { authorize, postForm, SECRET_A, type Stack, startStack } from './helpers/stack.js';

const DASHBOARD = JSON.parse(
  readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
};
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

/** Grafana's reference to the dashboard's data source variable (not a JavaScript template). */
const DATASOURCE_VARIABLE = '$' + '{datasource}';

/** Grafana's variables stand in for values PromQL takes: `$__rate_interval` for a duration. */
const withVariables = (expr: string) => expr.replaceAll('$__rate_interval', '5m');

/** The metric names an expression selects, or throws where Prometheus' grammar finds an error. */
function metricNames(expr: string): string[] {
  const source = withVariables(expr);
  const names: string[] = [];
  parser.parse(source).iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`not PromQL at ${node.from}: ${source}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        names.push(source.slice(node.from, node.to));
      }
    },
  });
  return names;
}

/** Every query of the dashboard: the panels' and the variables' (`label_values(selector, label)`). */
function queries(): string[] {
  const fromPanels = DASHBOARD.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
  const fromVariables = DASHBOARD.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
      const selector = /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1];
      if (selector === undefined) throw new Error(`unexpected variable query: ${query}`);
      return selector;
    });
  return [...fromPanels, ...fromVariables];
}

/** The names in a Prometheus text exposition: each family, a histogram's as its series are named. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    else names.add(name);
  }
  for (const [, name] of exposition.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)) if (name) names.add(name);
  return names;
}

let stack: Stack;
let exposition: string;
beforeAll(async () => {
  stack = await startStack({ env: { ENCRYPTION_SECRET: SECRET_A } });
  const { code } = await authorize(stack.accounts.url);
  const { refresh_token } = (await (await postForm(`${stack.service.url}/swap`, { code })).json()) as {
    refresh_token: string;
  };
  expect((await postForm(`${stack.service.url}/refresh`, { refresh_token })).status).toBe(200);
  exposition = await (await fetch(`${stack.service.url}/metrics`)).text();
  return () => stack.close();
});

describe('token_swap_build_info', () => {
  it('is 1, labelled with the service version and the Node.js version', async () => {
    expect(
      await metric(stack, 'token_swap_build_info', { version: 'test', node: process.versions.node }),
    ).toBe(1);
    expect(exposition).toContain('# TYPE token_swap_build_info gauge');
  });
});

describe('the Grafana dashboard', () => {
  it('queries only metric names the service exports, in valid PromQL', () => {
    const exported = exportedNames(exposition);
    const used = new Set<string>();
    for (const expr of queries()) {
      const names = metricNames(expr);
      expect(names.length, `no metric in: ${expr}`).toBeGreaterThan(0);
      for (const name of names) used.add(name);
    }
    const missing = [...used].filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
    // Each of the service's own families is on the dashboard, the process ones aside.
    const own = [...exposition.matchAll(/^# TYPE (token_swap_\S+) (\S+)$/gm)]
      .map(([, name, type]) => ({ name: name ?? '', type }))
      .filter(({ name }) => !/^token_swap_(process|nodejs)_/.test(name));
    const shown = own.filter(({ name, type }) =>
      type === 'histogram' ? used.has(`${name}_bucket`) || used.has(`${name}_sum`) : used.has(name),
    );
    expect(shown.map(({ name }) => name)).toEqual(own.map(({ name }) => name));
  });

  it('is importable: unique panel ids, every query on the data source variable, each panel described', () => {
    const ids = DASHBOARD.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(DASHBOARD.templating.list.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    for (const panel of DASHBOARD.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe(DATASOURCE_VARIABLE);
      expect(panel.description, panel.title).toBeTruthy();
      for (const target of panel.targets ?? [])
        expect(target.datasource?.uid, panel.title).toBe(DATASOURCE_VARIABLE);
    }
  });

  it('has each of its panels explained in docs/observability.md', () => {
    const page = readFileSync(new URL('../docs/observability.md', import.meta.url), 'utf8');
    for (const panel of DASHBOARD.panels.filter((p) => p.type !== 'row')) {
      expect(page, panel.title).toContain(`**${panel.title}**`);
    }
  });
});

describe('the README’s metrics table', () => {
  it('names only metrics the service exports', () => {
    const start = README.indexOf('### Metrics');
    const table = README.slice(start, README.indexOf('\n## ', start));
    const names = [...table.matchAll(/^\| `(token_swap_[a-z_*]+)`/gm)].map(([, name]) => name ?? '');
    expect(names.length).toBeGreaterThan(5);
    // A family by its own name (a histogram's is no series name), or a series.
    const families = [...exposition.matchAll(/^# TYPE (\S+) /gm)].map(([, name]) => name ?? '');
    const exported = [...families, ...exportedNames(exposition)];
    for (const name of names) {
      const pattern = new RegExp(`^${name.replace('*', '.+')}$`);
      expect(
        exported.some((exportedName) => pattern.test(exportedName)),
        name,
      ).toBe(true);
    }
  });
});
