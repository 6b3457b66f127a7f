/** The files shipped in deploy/, read the way the tests of them need them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const DEPLOY = join(ROOT, 'deploy');
export const RULES_FILE = join(DEPLOY, 'prometheus', 'rules.yml');
export const RULES_TEST_FILE = join(DEPLOY, 'prometheus', 'rules.test.yml');
export const PROMETHEUS_FILE = join(DEPLOY, 'prometheus', 'prometheus.yml');
export const PROBE_SHARDED_FILE = join(DEPLOY, 'prometheus', 'probe-sharded.yml');
export const ALERTMANAGER_FILE = join(DEPLOY, 'alertmanager', 'alertmanager.yml');
export const DASHBOARD_FILE = join(DEPLOY, 'grafana', 'certexp.json');

export interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

/** The parsed file; the caller says what it holds. */
export function readYaml(file: string): unknown {
  return parse(readFileSync(file, 'utf8'));
}

export function ruleGroups(text = readFileSync(RULES_FILE, 'utf8')): RuleGroup[] {
  return (parse(text) as { groups: RuleGroup[] }).groups;
}

export function alertRules(groups = ruleGroups()): (Rule & { alert: string })[] {
  return groups.flatMap((group) => group.rules).filter((rule): rule is Rule & { alert: string } => rule.alert !== undefined);
}

/** rules.yml with every `for:` set to `duration`: the shipped rules, fast enough for a test. */
export function rulesWithFor(duration: string): string {
  return readFileSync(RULES_FILE, 'utf8').replace(/^(\s+for: )\S+$/gm, `$1${duration}`);
}

// --- Grafana dashboard ---------------------------------------------------------------------

export interface PanelTarget {
  readonly refId: string;
  readonly expr: string;
  readonly format?: string;
  readonly instant?: boolean;
  readonly datasource?: { readonly type: string; readonly uid: string };
}

export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly PanelTarget[];
  readonly panels?: readonly Panel[];
  readonly fieldConfig?: unknown;
  readonly transformations?: readonly { readonly id: string; readonly options: unknown }[];
}

export interface TemplateVariable {
  readonly name: string;
  readonly type: string;
  readonly query: string | { readonly query: string };
  readonly datasource?: { readonly type: string; readonly uid: string };
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly TemplateVariable[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every panel, those inside collapsed rows included. */
export function allPanels(board = dashboard()): Panel[] {
  return board.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** `label_values(selector, label)`, the form of the dashboard's query variables. */
export function labelValuesQuery(variable: TemplateVariable): { selector: string; label: string } {
  const text = typeof variable.query === 'string' ? variable.query : variable.query.query;
  const match = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
  if (match === null) throw new Error(`variable ${variable.name}: not label_values(selector, label): ${text}`);
  return { selector: match[1] ?? '', label: match[2] ?? '' };
}

/**
 * What Grafana sends Prometheus for an expression, with the dashboard's variables set to "All"
 * and the interval variables to `rateInterval`.
 */
export function expandGrafanaVariables(expr: string, rateInterval: string): string {
  return expr
    .replace(/\$\{?(job|target)\}?/g, '.*')
    .replace(/\$\{?__rate_interval\}?/g, rateInterval)
    .replace(/\$\{?__interval\}?/g, rateInterval)
    .replace(/\$\{?__range\}?/g, rateInterval);
}
