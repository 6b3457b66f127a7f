import { allPanels, dashboard, labelValuesQuery, ruleGroups, type Panel } from './shipped';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function overlaps(a: Panel['gridPos'], b: Panel['gridPos']): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe('the Grafana dashboard', () => {
  const board = dashboard();
  const panels = allPanels(board);
  const queryPanels = panels.filter((panel) => panel.type !== 'row');

  it('imports with a fixed uid, a data source variable and job and target variables', () => {
    expect(board.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(board.templating.list.map((v) => [v.name, v.type])).toEqual([['datasource', 'datasource'], ['job', 'query'], ['target', 'query']]);
    for (const variable of board.templating.list.filter((v) => v.type === 'query')) {
      expect(variable.datasource).toEqual(DATASOURCE);
      expect(() => labelValuesQuery(variable)).not.toThrow();
    }
  });

  it('queries the data source variable from every panel and filters by the target variable where there are targets', () => {
    for (const panel of queryPanels) {
      expect([panel.title, panel.datasource]).toEqual([panel.title, DATASOURCE]);
      expect([panel.title, (panel.targets ?? []).length > 0]).toEqual([panel.title, true]);
      for (const target of panel.targets ?? []) {
        expect([panel.title, target.datasource]).toEqual([panel.title, DATASOURCE]);
        if (/certexp_(cert|verify|probe_success|tls)/.test(target.expr)) expect([panel.title, target.expr]).toEqual([panel.title, expect.stringContaining('target=~"$target"')]);
      }
    }
  });

  it('gives every panel its own id and its own place on the grid', () => {
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) expect([a.title, b.title, overlaps(a.gridPos, b.gridPos)]).toEqual([a.title, b.title, false]);
    }
  });

  it('shows what the issue asks for: days-left table, latency percentiles and heatmap, failures by reason, exporter health', () => {
    const types = queryPanels.map((p) => `${p.type}: ${p.title}`);
    expect(types).toEqual(expect.arrayContaining([
      'table: Targets by days left',
      'timeseries: Handshake latency percentiles',
      'heatmap: Handshake latency heatmap',
      'timeseries: Probe failure rate by reason',
      'stat: Exporters up',
      'stat: Last config reload',
    ]));
  });

  it('colours days left with the thresholds of the expiry alerts, and sorts the table by them', () => {
    const table = panels.find((p) => p.title === 'Targets by days left');
    const thresholds = (days: string): number => Number(/vector\((\d+)\)/.exec(
      ruleGroups().flatMap((g) => g.rules).find((r) => r.record === `certexp:expiry_${days}_threshold_days`)?.expr ?? '')?.[1]);
    const json = JSON.stringify(table);
    expect(json).toContain(JSON.stringify({ id: 'thresholds', value: { mode: 'absolute', steps: [
      { color: 'red', value: null }, { color: 'orange', value: thresholds('critical') }, { color: 'green', value: thresholds('warning') },
    ] } }));
    expect(table?.transformations?.map((t) => t.id)).toEqual(['joinByField', 'organize', 'sortBy']);
    expect(json).toContain('"reason"');
  });
});
