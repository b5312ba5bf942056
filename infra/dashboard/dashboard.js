/**
 * 动态考评 · 可视化展示: reads the published assessment snapshots (snapshots/index.json, snapshots/<period>.json,
 * the files the rollup writes to the assessments bucket) and shows the provinces ranked by a rate, the nation's
 * monthly trend and a drill-down to a province's cities/counties and departments, then to a department's items
 * (read from the province's item snapshot, snapshots/<period>/items-<province>.json, only when asked for). Plain
 * browser JavaScript: the page needs no build step, and the charts are Apache ECharts, vendored beside it (no CDN).
 */

/** The rates a reader ranks by, with their Chinese labels (the snapshot's names are English). */
const METRICS = {
  onTimeCompletionRate: '按时办结率',
  fullyOnlineRate: '全程网办率',
  satisfactionRate: '满意率',
};
const RATE_DECIMALS = 2;

const state = {
  periods: [],
  period: undefined,
  snapshot: undefined,
  metric: 'onTimeCompletionRate',
  province: undefined,
  department: undefined,
};
const snapshots = new Map();
const itemSnapshots = new Map();

const $ = (selector) => document.querySelector(selector);

/** A rate as the snapshot states it, rounded as published; `—` when its denominator is zero. */
export function formatRate(rate) {
  return rate ? `${rate.value.toFixed(RATE_DECIMALS)}%` : '—';
}

async function fetchJson(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function loadSnapshot(period) {
  if (!snapshots.has(period)) snapshots.set(period, fetchJson(`snapshots/${period}.json`));
  return snapshots.get(period);
}

/** A province without cases in the period has no item snapshot (404): it has no items to show. */
async function fetchItemSnapshot(period, province) {
  const url = `snapshots/${period}/items-${province}.json`;
  const response = await fetch(url, { cache: 'no-store' });
  if (response.status === 404) return { scopes: [] };
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function loadItemSnapshot(period, province) {
  const key = `${period}/${province}`;
  if (!itemSnapshots.has(key)) itemSnapshots.set(key, fetchItemSnapshot(period, province));
  return itemSnapshots.get(key);
}

const provincesOf = (snapshot) => snapshot.scopes.filter((scope) => scope.level === 'province');
const nationOf = (snapshot) => snapshot.scopes.find((scope) => scope.level === 'nation');

/** Highest first; a province without the rate (zero denominator) last, then by code for a stable order. */
function ranked(provinces, metric) {
  return [...provinces].sort((a, b) => {
    const left = a.rates[metric]?.value ?? -1;
    const right = b.rates[metric]?.value ?? -1;
    return right - left || a.province.localeCompare(b.province);
  });
}

function cell(text, testId) {
  const td = document.createElement('td');
  td.textContent = text;
  if (testId) td.dataset.testid = testId;
  return td;
}

function rateCells(scope) {
  return [
    cell(formatRate(scope.rates.onTimeCompletionRate), 'onTimeCompletionRate'),
    cell(formatRate(scope.rates.fullyOnlineRate), 'fullyOnlineRate'),
    cell(formatRate(scope.rates.satisfactionRate), 'satisfactionRate'),
    cell(String(scope.counters.received ?? 0), 'received'),
  ];
}

function renderNation(snapshot) {
  const nation = nationOf(snapshot);
  for (const metric of Object.keys(METRICS)) {
    $(`[data-testid="nation-${metric}"]`).textContent = nation ? formatRate(nation.rates[metric]) : '—';
  }
  $('[data-testid="nation-received"]').textContent = String(nation?.counters.received ?? 0);
}

function renderRanking(snapshot) {
  const rows = ranked(provincesOf(snapshot), state.metric);
  const body = $('#ranking tbody');
  body.replaceChildren(
    ...rows.map((scope, index) => {
      const tr = document.createElement('tr');
      tr.dataset.province = scope.province;
      tr.dataset.testid = `province-${scope.province}`;
      if (scope.province === state.province) tr.classList.add('selected');
      tr.append(cell(String(index + 1), 'rank'), cell(scope.provinceName ?? scope.province, 'name'));
      tr.append(...rateCells(scope));
      tr.addEventListener('click', () => drillDown(scope.province));
      return tr;
    }),
  );
  const chart = echarts.getInstanceByDom($('#ranking-chart')) ?? echarts.init($('#ranking-chart'));
  chart.setOption(
    {
      // Figures are for reading, not for show: drawn at once, so a screenshot shows them as they are.
      animation: false,
      tooltip: { trigger: 'axis' },
      grid: { left: 48, right: 16, bottom: 80 },
      xAxis: {
        type: 'category',
        data: rows.map((scope) => scope.provinceName ?? scope.province),
        axisLabel: { rotate: 60 },
      },
      yAxis: { type: 'value', name: `${METRICS[state.metric]} %`, max: 100 },
      series: [
        {
          type: 'bar',
          name: METRICS[state.metric],
          data: rows.map((s) => s.rates[state.metric]?.value ?? null),
        },
      ],
    },
    true,
  );
  chart.off('click');
  chart.on('click', (event) => drillDown(rows[event.dataIndex]?.province));
}

/** Month snapshots, oldest first: the nation's (or the selected province's) three rates month by month. */
async function renderTrend() {
  const months = state.periods.filter((period) => /^\d{4}-\d{2}$/.test(period));
  const loaded = await Promise.all(months.map(loadSnapshot));
  const scopeOf = (snapshot) =>
    state.province
      ? snapshot.scopes.find((scope) => scope.level === 'province' && scope.province === state.province)
      : nationOf(snapshot);
  const name = state.province ? (scopeOf(state.snapshot)?.provinceName ?? state.province) : '全国';
  $('#trend-scope').textContent = name;
  const chart = echarts.getInstanceByDom($('#trend-chart')) ?? echarts.init($('#trend-chart'));
  chart.setOption(
    {
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { data: Object.values(METRICS) },
      xAxis: { type: 'category', data: months },
      yAxis: { type: 'value', name: '%', max: 100 },
      series: Object.entries(METRICS).map(([metric, label]) => ({
        type: 'line',
        name: label,
        data: loaded.map((snapshot) => scopeOf(snapshot)?.rates[metric]?.value ?? null),
      })),
    },
    true,
  );
}

function drillDown(province) {
  if (!province || !state.snapshot) return;
  if (province !== state.province) hideItems();
  state.province = province;
  const scopes = state.snapshot.scopes;
  const provinceScope = scopes.find((scope) => scope.level === 'province' && scope.province === province);
  const prefix = province.slice(0, 2);
  const departments = scopes.filter((scope) => scope.level === 'department' && scope.province === province);
  const regions = scopes.filter(
    (scope) =>
      scope.level === 'region' && scope.regionCode?.startsWith(prefix) && scope.regionCode !== province,
  );
  $('[data-testid="drilldown-name"]').textContent = provinceScope?.provinceName ?? province;
  const departmentRows = rowsOf(departments, 'departmentCode');
  for (const tr of departmentRows) {
    tr.classList.toggle('selected', tr.dataset.code === state.department);
    tr.addEventListener('click', () => showItems(tr.dataset.code));
  }
  $('[data-testid="departments"] tbody').replaceChildren(...departmentRows);
  $('[data-testid="regions"] tbody').replaceChildren(...rowsOf(regions, 'regionCode'));
  $('#drilldown').hidden = false;
  for (const row of document.querySelectorAll('#ranking tbody tr')) {
    row.classList.toggle('selected', row.dataset.province === province);
  }
  renderTrend();
}

/** A table row per scope, led by its code (`key`), then its rates and received count. */
function rowsOf(list, key) {
  return list.map((scope) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = `${key}-${scope[key]}`;
    tr.dataset.code = scope[key] ?? '';
    tr.append(cell(scope[key] ?? '', key), ...rateCells(scope));
    return tr;
  });
}

function hideItems() {
  state.department = undefined;
  $('#items-section').hidden = true;
  $('#items tbody').replaceChildren();
  delete document.body.dataset.loadedItems;
}

/** The items of a department of the selected province, in the selected period. */
async function showItems(departmentCode) {
  const { period, province } = state;
  if (!departmentCode || !province) return;
  state.department = departmentCode;
  for (const row of document.querySelectorAll('#departments tbody tr')) {
    row.classList.toggle('selected', row.dataset.code === departmentCode);
  }
  try {
    const snapshot = await loadItemSnapshot(period, province);
    // Another click (or period) came first while this one was loading: its answer is the one to show.
    if (state.period !== period || state.province !== province || state.department !== departmentCode) return;
    const items = snapshot.scopes.filter(
      (scope) => scope.level === 'item' && scope.departmentCode === departmentCode,
    );
    $('[data-testid="items-department"]').textContent = departmentCode;
    $('#items tbody').replaceChildren(...rowsOf(items, 'itemCode'));
    $('#items-section').hidden = false;
    document.body.dataset.loadedItems = `${period}#${province}#${departmentCode}`;
  } catch (error) {
    $('#status').textContent = `事项加载失败 (failed to load the items): ${error.message}`;
  }
}

async function showPeriod(period) {
  state.snapshot = await loadSnapshot(period);
  state.period = period;
  renderNation(state.snapshot);
  renderRanking(state.snapshot);
  await renderTrend();
  if (state.province) drillDown(state.province);
  if (state.department) await showItems(state.department);
  $('#rounding').textContent = state.snapshot.rounding;
  const { coverage } = state.snapshot;
  $('#status').textContent =
    `${period} · 生成于 ${state.snapshot.generatedAt} · 覆盖 ${coverage.days}/${coverage.daysInPeriod} 天`;
  document.body.dataset.loadedPeriod = period;
}

/** Months first (newest first), then days: an assessor opens the latest month. */
function periodOrder(periods) {
  const months = periods
    .filter((p) => p.length === 7)
    .sort()
    .reverse();
  const days = periods
    .filter((p) => p.length === 10)
    .sort()
    .reverse();
  return [...months, ...days];
}

async function start() {
  try {
    const index = await fetchJson('snapshots/index.json');
    state.periods = index.periods;
    if (state.periods.length === 0) {
      $('#status').textContent = '尚无已发布的考评快照 (no assessment has been published yet).';
      document.body.dataset.loadedPeriod = '';
      return;
    }
    const select = $('#period');
    select.replaceChildren(
      ...periodOrder(state.periods).map(
        (period) => new Option(period.length === 7 ? `${period} 月度` : period, period),
      ),
    );
    select.addEventListener('change', () => showPeriod(select.value));
    $('#metric').addEventListener('change', (event) => {
      state.metric = event.target.value;
      renderRanking(state.snapshot);
    });
    await showPeriod(select.value);
  } catch (error) {
    $('#status').textContent = `加载失败 (failed to load): ${error.message}`;
    document.body.dataset.loadedPeriod = 'error';
  }
}

start();
