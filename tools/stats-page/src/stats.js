// The statistics page at /stats (api/src/http/stats_page.rs serves the skeleton; build.sh bundles this file with
// Chart.js). It uses only the public GraphQL API, with the token the user pastes: `statisticsOptions` says what
// the token's role may ask, and only those choices are offered; `statistics` answers them. Suppressed cells are
// shown as suppressed, never as 0, in the table and as gaps in the chart.
import { Chart } from './chart.js';

const root = document.getElementById('stats');
const ENDPOINT = root.dataset.endpoint || '/graphql';
const GRAPHIQL = root.dataset.graphiql || '/graphql';
/** Years offered for `from`/`to`: from the first year partners see of a sensitive measure to this year. */
const FIRST_YEAR = 2005;
const FONT = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif';
const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d',
  '#4b5563', '#ea580c', '#0d9488', '#9333ea'];
/** Series beyond this many are left out of the chart (the table lists every cell). */
const MAX_SERIES = 12;

const OPTIONS_QUERY = `query StatisticsOptions {
  viewer { subject roles regionCode }
  statisticsOptions {
    measure unit disclosureControlled dimensions regionLevels defaultRegionLevel periods periodRequired
    mayRestrictDates
  }
}`;

const $ = (id) => document.getElementById(id);
const state = { token: '', options: [], sequence: 0, chart: null, charted: false };
/** For tests and the curious: the chart and the last answer shown. */
window.statsPage = state;

Chart.defaults.font.family = FONT;
Chart.defaults.animation = false;

/** `CARE_SUBJECTS` → `Care subjects`. */
function label(name) {
  const words = name.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function element(tag, properties = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, properties);
  for (const child of children) node.append(child);
  return node;
}

/** Posts a query with the token; resolves to the whole response, throws with the server's message. */
async function graphql(query) {
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${state.token}`,
    },
    body: JSON.stringify({ query }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`HTTP ${response.status}`);
  }
  if (body.errors?.length) {
    const [error] = body.errors;
    const code = error.extensions?.code ? ` (${error.extensions.code})` : '';
    throw new Error(`${error.message}${code}`);
  }
  return body;
}

// ---- Signing in ----------------------------------------------------------------------------------------------

async function signIn(token) {
  performance.mark('govgraph:sign-in');
  $('sign-in-error').textContent = '';
  state.token = token.trim();
  if (!state.token) {
    $('sign-in-error').textContent = 'Paste a token first.';
    return;
  }
  try {
    const { data } = await graphql(OPTIONS_QUERY);
    if (!data.viewer) throw new Error('the server did not accept the token');
    state.options = data.statisticsOptions;
    const { subject, roles, regionCode } = data.viewer;
    $('who').textContent = `${subject} · ${roles.join(', ')} · region ${regionCode ?? '—'}`;
  } catch (error) {
    state.token = '';
    $('sign-in-error').textContent = `Could not sign in: ${error.message}`;
    return;
  }
  $('sign-in').hidden = true;
  $('sign-out').hidden = false;
  $('explore').hidden = false;
  fillMeasures();
  await show();
}

function signOut() {
  state.token = '';
  state.options = [];
  state.chart?.destroy();
  state.chart = null;
  $('token').value = '';
  $('who').textContent = '';
  $('explore').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
}

// ---- Choices: only what statisticsOptions allows -------------------------------------------------------------

function optionsOf(measure) {
  return state.options.find((options) => options.measure === measure);
}

function fillSelect(select, values, selected, text = label) {
  select.replaceChildren(
    ...values.map((value) => element('option', { value, textContent: text(value), selected: value === selected })),
  );
}

function fillMeasures() {
  fillSelect($('measure'), state.options.map((options) => options.measure), state.options[0]?.measure, (measure) =>
    optionsOf(measure).disclosureControlled ? `${label(measure)} (disclosure controlled)` : label(measure),
  );
  const thisYear = new Date().getFullYear();
  const years = [];
  for (let year = thisYear; year >= FIRST_YEAR; year -= 1) years.push(String(year));
  fillSelect($('from-year'), ['', ...years], '', (year) => year || 'any');
  fillSelect($('to-year'), ['', ...years], '', (year) => year || 'any');
  fillChoices();
}

/** Fills the dimensions, levels and periods of the chosen measure, keeping earlier choices where allowed. */
function fillChoices() {
  const options = optionsOf($('measure').value);
  const checked = new Set([...document.querySelectorAll('#dimensions input:checked')].map((box) => box.value));
  if (checked.size === 0) checked.add('REGION');
  const boxes = options.dimensions.map((dimension) => {
    const required = dimension === 'PERIOD' && options.periodRequired;
    const box = element('input', {
      type: 'checkbox',
      value: dimension,
      checked: required || checked.has(dimension),
      disabled: required,
      title: required ? 'Your role gets this measure period by period' : '',
    });
    return element('label', { className: 'check' }, [box, ` ${label(dimension)}`]);
  });
  $('dimensions').replaceChildren(element('legend', { textContent: 'Group by' }), ...boxes);

  const level = options.regionLevels.includes($('region-level').value)
    ? $('region-level').value
    : options.defaultRegionLevel;
  fillSelect($('region-level'), options.regionLevels, level);
  const preferred = options.periods.includes($('period').value) ? $('period').value : 'YEAR';
  fillSelect($('period'), options.periods, options.periods.includes(preferred) ? preferred : options.periods[0]);
  for (const id of ['from-year', 'to-year']) {
    $(id).disabled = !options.mayRestrictDates;
    $(id).title = options.mayRestrictDates ? '' : 'Your role gets every period of this measure; it cannot restrict dates';
    if (!options.mayRestrictDates) $(id).value = '';
  }
  enableByDimensions();
}

function chosenDimensions() {
  return [...document.querySelectorAll('#dimensions input')].filter((box) => box.checked).map((box) => box.value);
}

function enableByDimensions() {
  const dims = chosenDimensions();
  $('region-level').disabled = !dims.includes('REGION');
  $('period').disabled = !dims.includes('PERIOD') || $('period').options.length === 0;
}

// ---- The query -----------------------------------------------------------------------------------------------

/** The GraphQL document for the current choices: shown in GraphiQL by the link, sent as is. */
function statisticsQuery() {
  const measure = $('measure').value;
  const options = optionsOf(measure);
  const dims = chosenDimensions();
  const args = [`measure: ${measure}`, `groupBy: [${dims.join(', ')}]`];
  if (dims.includes('REGION')) args.push(`regionLevel: ${$('region-level').value}`);
  if (dims.includes('PERIOD')) args.push(`period: ${$('period').value}`);
  if (options.mayRestrictDates) {
    let [from, to] = [$('from-year').value, $('to-year').value];
    if (from && to && from > to) [from, to] = [to, from];
    if (from) args.push(`from: "${from}-01-01"`);
    if (to) args.push(`to: "${to}-12-31"`);
  }
  return `query Statistics {
  statistics(${args.join(', ')}) {
    measure unit regionLevel disclosureControlled
    cells { regionCode regionName period category value suppressed }
  }
}`;
}

async function show() {
  const sequence = ++state.sequence;
  const query = statisticsQuery();
  root.dataset.state = 'loading';
  $('status').textContent = 'Loading…';
  $('status').className = 'status';
  $('graphiql-link').href = `${GRAPHIQL}#query=${encodeURIComponent(query)}`;
  let response;
  try {
    response = await graphql(query);
  } catch (error) {
    if (sequence !== state.sequence) return;
    $('status').textContent = error.message;
    $('status').className = 'status error';
    root.dataset.state = 'error';
    return;
  }
  if (sequence !== state.sequence) return;
  const result = response.data.statistics;
  state.query = query;
  state.result = result;
  $('status').textContent = '';
  drawChart(result);
  drawTable(result);
  describe(result, response.extensions?.cost);
  root.dataset.state = 'ready';
  if (!state.charted) {
    state.charted = true;
    performance.mark('govgraph:first-chart');
  }
}

// ---- The answer ----------------------------------------------------------------------------------------------

/** A cell's figure for the chart: null (a gap) when suppressed, never 0. */
function figure(cell) {
  return cell.suppressed || cell.value === null ? null : Number(cell.value);
}

/** A region's label in the chart: its name, with its code where another region of the answer has that name. */
function regionLabeller(cells) {
  const codes = new Map();
  for (const cell of cells) {
    if (cell.regionCode === null) continue;
    if (!codes.has(cell.regionName)) codes.set(cell.regionName, new Set());
    codes.get(cell.regionName).add(cell.regionCode);
  }
  return (cell) =>
    codes.get(cell.regionName)?.size > 1 ? `${cell.regionName} (${cell.regionCode})` : (cell.regionName ?? cell.regionCode);
}

/**
 * Lines over periods when grouped by period (a line per region and category), else bars by region (a bar per
 * category), else bars by category; one bar for the total.
 */
function chartData(result) {
  const { cells } = result;
  const regionLabel = regionLabeller(cells);
  const byPeriod = cells.some((cell) => cell.period !== null);
  const byRegion = cells.some((cell) => cell.regionCode !== null);
  const xOf = byPeriod
    ? (cell) => cell.period
    : byRegion
      ? regionLabel
      : (cell) => cell.category ?? 'Total';
  const seriesOf = (cell) =>
    [byPeriod ? regionLabel(cell) : null, byPeriod || byRegion ? cell.category : null]
      .filter((part) => part !== null && part !== undefined)
      .join(' · ') || label(result.measure);
  const labels = [...new Set(cells.map(xOf))];
  if (byPeriod) labels.sort();
  // An exact answer lists only the cells that have rows: a count or sum missing from it is 0. A share is not
  // defined there, and under disclosure control every cell is listed, so a gap is left only for those.
  const absent = !result.disclosureControlled && result.unit !== 'SHARE' ? 0 : null;
  const series = new Map();
  for (const cell of cells) {
    const name = seriesOf(cell);
    if (!series.has(name)) series.set(name, new Array(labels.length).fill(absent));
    series.get(name)[labels.indexOf(xOf(cell))] = figure(cell);
  }
  const shown = [...series.entries()].slice(0, MAX_SERIES);
  return {
    type: byPeriod ? 'line' : 'bar',
    labels,
    left: series.size - shown.length,
    datasets: shown.map(([name, data], index) => ({
      label: name,
      data,
      borderColor: PALETTE[index % PALETTE.length],
      backgroundColor: PALETTE[index % PALETTE.length],
      spanGaps: false,
      pointRadius: labels.length > 60 ? 0 : 3,
    })),
  };
}

function drawChart(result) {
  const { type, labels, datasets, left } = chartData(result);
  state.chart?.destroy();
  state.chart = new Chart($('chart'), {
    type,
    data: { labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', intersect: false },
      plugins: {
        legend: { display: datasets.length > 1, position: 'bottom' },
        tooltip: {
          callbacks: {
            label: (item) => `${item.dataset.label}: ${item.raw === null ? 'suppressed' : item.formattedValue}`,
          },
        },
      },
      scales: { y: { beginAtZero: true, title: { display: true, text: label(result.unit) } } },
    },
  });
  $('chart-note').textContent =
    left > 0 ? `The chart shows the first ${datasets.length} series of ${datasets.length + left}; the table lists every cell.` : '';
}

function drawTable(result) {
  const columns = [
    ['Region', (cell) => (cell.regionCode === null ? null : `${cell.regionName} (${cell.regionCode})`)],
    ['Period', (cell) => cell.period],
    ['Category', (cell) => cell.category],
  ].filter(([, of]) => result.cells.some((cell) => of(cell) !== null));
  const head = element('tr', {}, [
    ...columns.map(([name]) => element('th', { scope: 'col', textContent: name })),
    element('th', { scope: 'col', className: 'number', textContent: `Value (${label(result.unit).toLowerCase()})` }),
  ]);
  const rows = result.cells.map((cell) =>
    element('tr', {}, [
      ...columns.map(([, of]) => element('td', { textContent: of(cell) })),
      cell.suppressed
        ? element('td', {
            className: 'number suppressed',
            textContent: 'suppressed',
            title: 'Withheld by disclosure control: few persons, possibly none',
          })
        : element('td', { className: 'number', textContent: cell.value }),
    ]),
  );
  $('table').replaceChildren(element('thead', {}, [head]), element('tbody', {}, rows));
}

function describe(result, cost) {
  const suppressed = result.cells.filter((cell) => cell.suppressed).length;
  $('note').textContent = result.disclosureControlled
    ? `Disclosure control: this measure counts persons in a sensitive category. Cells of too few persons ` +
      `(possibly none) are suppressed — shown as “suppressed”, never as 0 — together with the cells that would ` +
      `give them away, and every figure shown carries a small fixed noise, so totals need not equal the sum of ` +
      `their cells. ${suppressed} of ${result.cells.length} cells suppressed.`
    : `Exact figures: no disclosure control applies to this measure for your role. ${result.cells.length} cells.`;
  $('note').className = result.disclosureControlled ? 'note controlled' : 'note';
  $('cost').textContent = cost ? `Query cost ${cost.requested} of ${cost.limit}.` : '';
}

// ---- Wiring --------------------------------------------------------------------------------------------------

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn($('token').value);
});
$('demo')?.addEventListener('click', () => {
  $('token').value = $('demo').dataset.token;
  signIn($('demo').dataset.token);
});
$('sign-out').addEventListener('click', signOut);
$('query').addEventListener('submit', (event) => {
  event.preventDefault();
  show();
});
$('query').addEventListener('change', (event) => {
  if (event.target.id === 'measure') fillChoices();
  enableByDimensions();
  show();
});
root.dataset.state = 'signed-out';
