// The statistics page at /stats in a real browser: it loads without internet access, signs in with a pasted
// token, draws a chart and a table of a measure with the very figures the API returns for the same query, opens
// that query in GraphiQL, and for a partner shows suppressed cells as suppressed (never 0) and offers no grid
// level for sensitive measures. Prints the time from navigation to the first chart.
import { check, test } from './harness.mjs';

/** Posts `query` to the API with `token`, as the page does, and returns the statistics answer. */
async function direct(t, token, query) {
  const response = await fetch(`${t.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  }).then((answer) => answer.json());
  check(!response.errors, `the API refused the page's query: ${JSON.stringify(response.errors)}`);
  return response.data.statistics;
}

async function signIn(t, token) {
  const { page } = t;
  await page.fill('#token', token);
  await page.click('#sign-in button[type="submit"]');
  await waitForAnswer(page, 'measure:');
}

/** Waits until the page shows the answer to a query containing every one of `parts`. */
async function waitForAnswer(page, ...parts) {
  await page.waitForFunction(
    (wanted) =>
      document.getElementById('stats').dataset.state === 'ready' &&
      wanted.every((part) => window.statsPage.query?.includes(part)),
    parts,
    { timeout: 20_000 },
  );
  return page.evaluate(() => window.statsPage.query);
}

/** Chooses a measure, dimensions, a region level and a period in the form, then asks for them. */
async function choose(page, { measure, dimensions, level, period }) {
  await page.selectOption('#measure', measure);
  for (const box of await page.$$('#dimensions input:not([disabled])')) {
    const wanted = dimensions.includes(await box.getAttribute('value'));
    if ((await box.isChecked()) !== wanted) await box.click();
  }
  if (level) await page.selectOption('#region-level', level);
  if (period) await page.selectOption('#period', period);
  await page.click('#query button[type="submit"]');
  const parts = [`measure: ${measure}`, `groupBy: [${dimensions.join(', ')}]`];
  if (level) parts.push(`regionLevel: ${level}`);
  if (period) parts.push(`period: ${period}`);
  return waitForAnswer(page, ...parts);
}

/** The table's rows as the page shows them: the text of each cell. */
function tableRows(page) {
  return page.$$eval('#table tbody tr', (rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent)));
}

/**
 * Checks that the table lists every cell of `answer` in order with its figure ("suppressed" for a suppressed one)
 * and that each point the chart draws is the figure of its cell (a gap for a suppressed one, never 0).
 */
async function checkShown(page, answer) {
  const rows = await tableRows(page);
  check(rows.length === answer.cells.length, `the table has ${rows.length} rows for ${answer.cells.length} cells`);
  answer.cells.forEach((cell, index) => {
    const shown = rows[index].at(-1);
    const expected = cell.suppressed ? 'suppressed' : cell.value;
    check(shown === expected, `row ${index}: ${shown} where the API says ${expected} (${JSON.stringify(cell)})`);
    if (cell.regionName) check(rows[index][0].includes(cell.regionName), `row ${index}: ${rows[index][0]}`);
  });
  const chart = await page.evaluate(() => ({
    type: window.statsPage.chart.config.type,
    labels: window.statsPage.chart.data.labels,
    datasets: window.statsPage.chart.data.datasets.map(({ label, data }) => ({ label, data })),
  }));
  check(chart.datasets.length > 0, 'the chart has no series');
  let points = 0;
  // A region is labelled with its name, and its code too where two regions share the name.
  const named = (labels, cell) =>
    labels.find((label) => label === cell.regionName || label === `${cell.regionName} (${cell.regionCode})`);
  const seriesLabels = chart.datasets.map((dataset) => dataset.label);
  for (const cell of answer.cells) {
    const x = cell.period ?? (cell.regionName ? named(chart.labels, cell) : (cell.category ?? 'Total'));
    const region = cell.period && cell.regionName ? named(seriesLabels, cell) : null;
    if (cell.period && cell.regionName && !region) continue; // beyond the series the chart shows
    const series = [region, cell.category].filter(Boolean).join(' · ');
    const dataset = series ? chart.datasets.find((d) => d.label === series) : chart.datasets[0];
    if (!dataset) continue; // beyond the series the chart shows; the table lists it
    check(chart.labels.includes(x), `the chart has no ${x} among ${chart.labels}`);
    const value = dataset.data[chart.labels.indexOf(x)];
    const expected = cell.suppressed ? null : Number(cell.value);
    check(value === expected, `chart point ${series} at ${x}: ${value} where the API says ${expected}`);
    points += 1;
  }
  check(points > 0, 'no point of the chart could be matched with a cell');
  return chart;
}

test('an administrator signs in, picks a measure and sees the API figures in the chart and the table', async (t) => {
  const { page } = t;
  await page.goto(`${t.base}/stats`, { waitUntil: 'load' });
  check((await page.title()) === 'govgraph statistics', `title: ${await page.title()}`);
  check((await page.$('#demo')) === null, 'the demo button is on a page outside the demo');
  check(await page.isHidden('#explore'), 'the choices are shown before signing in');
  await t.screenshot('signed-out');

  await signIn(t, t.token);
  const timing = await page.evaluate(() => ({
    firstChart: performance.getEntriesByName('govgraph:first-chart')[0]?.startTime,
    signIn: performance.getEntriesByName('govgraph:sign-in')[0]?.startTime,
  }));
  check(Number.isFinite(timing.firstChart), 'the first chart was not marked');
  console.log(
    `     time to first chart: ${timing.firstChart.toFixed(0)} ms from navigation, ` +
      `${(timing.firstChart - timing.signIn).toFixed(0)} ms from signing in`,
  );
  check((await page.innerText('#who')).includes('admin'), `signed in as: ${await page.innerText('#who')}`);
  await t.screenshot('signed-in');

  // Lines over years, one per district.
  const query = await choose(page, {
    measure: 'CARE_SUBJECTS',
    dimensions: ['REGION', 'PERIOD'],
    level: 'DISTRICT',
    period: 'YEAR',
  });
  const answer = await direct(t, t.token, query);
  check(answer.cells.length > 4 && answer.cells.every((cell) => !cell.suppressed), 'an administrator sees exact cells');
  const chart = await checkShown(page, answer);
  check(chart.type === 'line', `chart over periods: ${chart.type}`);
  check(chart.datasets.some((dataset) => dataset.label === '定海区'), `series: ${chart.datasets.map((d) => d.label)}`);
  check((await page.innerText('#note')).startsWith('Exact figures'), await page.innerText('#note'));
  check(/Query cost \d+ of \d+/.test(await page.innerText('#cost')), `cost: ${await page.innerText('#cost')}`);
  await t.screenshot('lines-by-district');

  // Bars by region: registered volunteers by township, restricted to years.
  await page.selectOption('#from-year', '2015');
  await page.selectOption('#to-year', String(new Date().getFullYear()));
  const bars = await choose(page, { measure: 'REGISTERED_VOLUNTEERS', dimensions: ['REGION'], level: 'TOWNSHIP' });
  check(bars.includes('from: "2015-01-01"'), `the years are not in the query: ${bars}`);
  const barChart = await checkShown(page, await direct(t, t.token, bars));
  check(barChart.type === 'bar', `chart by region: ${barChart.type}`);
  await t.screenshot('bars-by-township');

  // The link opens the same query in GraphiQL.
  const link = await page.getAttribute('#graphiql-link', 'href');
  check(link.startsWith('/graphql#query='), `link: ${link}`);
  await page.goto(`${t.base}${link}`, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20_000 });
  await page.waitForFunction(
    (expected) => document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror.getValue() === expected,
    bars,
    { timeout: 10_000 },
  );
  await t.screenshot('graphiql-with-the-query');
});

test('a partner sees suppressed cells as suppressed and is offered no grid level for a sensitive measure', async (t) => {
  const { page } = t;
  await page.goto(`${t.base}/stats`, { waitUntil: 'load' });
  await signIn(t, t.partnerToken);
  check((await page.innerText('#who')).includes('partner'), `signed in as: ${await page.innerText('#who')}`);

  await page.selectOption('#measure', 'CARE_SUBJECTS');
  const levels = await page.$$eval('#region-level option', (options) => options.map((option) => option.value));
  check(!levels.includes('GRID') && levels.includes('COMMUNITY'), `region levels offered: ${levels}`);
  const periods = await page.$$eval('#period option', (options) => options.map((option) => option.value));
  check(JSON.stringify(periods) === '["MONTH","YEAR"]', `periods offered: ${periods}`);
  check(await page.isDisabled('#dimensions input[value="PERIOD"]'), 'a partner may leave out the period');
  check(await page.isChecked('#dimensions input[value="PERIOD"]'), 'the period is not chosen');
  check(await page.isDisabled('#from-year'), 'a partner may restrict years');

  const query = await choose(page, {
    measure: 'CARE_SUBJECTS',
    dimensions: ['REGION', 'PERIOD'],
    level: 'DISTRICT',
    period: 'YEAR',
  });
  const answer = await direct(t, t.partnerToken, query);
  check(answer.disclosureControlled, 'the partner got an uncontrolled answer');
  const suppressed = answer.cells.filter((cell) => cell.suppressed).length;
  check(suppressed > 0, 'no cell is suppressed: the test shows nothing');
  console.log(`     the partner's answer: ${suppressed} of ${answer.cells.length} cells suppressed`);
  await checkShown(page, answer);
  const shownSuppressed = await page.$$eval('#table td.suppressed', (cells) => cells.map((cell) => cell.textContent));
  check(shownSuppressed.length === suppressed && shownSuppressed.every((text) => text === 'suppressed'),
    `${shownSuppressed.length} cells shown as suppressed of ${suppressed}`);
  const note = await page.innerText('#note');
  check(note.startsWith('Disclosure control') && note.includes(`${suppressed} of ${answer.cells.length}`), note);
  await t.screenshot('partner-suppressed');

  // A measure without persons in a sensitive category: the grid level is offered, and the figures are exact.
  await page.selectOption('#measure', 'REGISTERED_VOLUNTEERS');
  const open = await page.$$eval('#region-level option', (options) => options.map((option) => option.value));
  check(open.includes('GRID'), `region levels offered for volunteers: ${open}`);
});
