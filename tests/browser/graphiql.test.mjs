// GraphiQL at /graphql in a real browser: it loads without internet access, takes a token in the headers
// editor, runs a query against the server and shows the answer, and its explorer lists the schema's fields and
// builds a query from a click.
import { check, test } from './harness.mjs';

const QUERY = '{ regions(first: 3) { totalCount nodes { code name } } }';

/** The text of the CodeMirror editor inside `selector`. */
function editorText(page, selector) {
  return page.$eval(`${selector} .CodeMirror`, (element) => element.CodeMirror.getValue());
}

/** Replaces the text of the CodeMirror editor inside `selector` the way a paste does. */
async function paste(page, selector, text) {
  await page.click(`${selector} .CodeMirror-lines`);
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

test('runs a query with a token from the headers editor and opens the explorer', async (t) => {
  const { page } = t;
  await page.goto(`${t.base}/graphql`, { waitUntil: 'load' });
  check((await page.title()) === 'govgraph', `title: ${await page.title()}`);
  await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: 20_000 });
  await page.waitForSelector('.graphiql-execute-button');
  await t.screenshot('page-loaded');

  // The headers tab is open from the start; without a token the schema could not be fetched.
  const headers = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
  await page.click('button[data-name="headers"]').catch(() => {});
  await paste(page, headers, JSON.stringify({ Authorization: `Bearer ${t.token}` }));
  check((await editorText(page, headers)).includes(t.token), 'the token is not in the headers editor');
  await paste(page, '.graphiql-query-editor', QUERY);
  check((await editorText(page, '.graphiql-query-editor')) === QUERY, 'the query editor does not hold the query');
  await t.screenshot('query-typed');

  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    () => document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue().includes('totalCount'),
    null,
    { timeout: 20_000 },
  );
  const shown = JSON.parse(await editorText(page, '.result-window'));
  check(!shown.errors, `the result has errors: ${JSON.stringify(shown.errors)}`);
  const regions = shown.data?.regions;
  check(Number.isInteger(regions?.totalCount) && regions.totalCount > 3, `totalCount: ${regions?.totalCount}`);
  check(regions.nodes.length === 3, `nodes: ${JSON.stringify(regions.nodes)}`);
  check(regions.nodes.some((region) => region.code === '330900' && region.name === '舟山市'),
    `舟山市 is not among ${JSON.stringify(regions.nodes)}`);

  // The same answer straight from the server.
  const direct = await fetch(`${t.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token}` },
    body: JSON.stringify({ query: QUERY }),
  }).then((response) => response.json());
  check(JSON.stringify(direct.data) === JSON.stringify(shown.data), 'GraphiQL shows another answer than the server gives');
  const visible = await page.innerText('.result-window');
  check(visible.includes(String(regions.totalCount)) && visible.includes('舟山市'),
    `the result pane does not show the answer: ${visible.slice(0, 300)}`);
  await t.screenshot('result-shown');

  // The schema was fetched again with the token, so the explorer lists the root fields.
  await page.click('button[aria-label="Show GraphiQL Explorer"]');
  await page.waitForSelector('.graphiql-plugin .graphiql-explorer-root', { timeout: 10_000 });
  await page.waitForFunction(
    () => /regions/.test(document.querySelector('.graphiql-plugin')?.innerText ?? ''),
    null,
    { timeout: 20_000 },
  );
  // Clicks in the explorer add fields to the query, which then runs.
  await page.locator('.graphiql-plugin span[data-field-name="viewer"]').first().click();
  await page.locator('.graphiql-plugin .graphiql-explorer-viewer span[data-field-name="subject"]').first().click();
  await page.waitForFunction(
    () => /viewer\s*{\s*subject\s*}/.test(document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()),
    null,
    { timeout: 10_000 },
  );
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    () => document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue().includes('"subject"'),
    null,
    { timeout: 20_000 },
  );
  const clicked = JSON.parse(await editorText(page, '.result-window'));
  check(clicked.data?.viewer?.subject === 'dev', `viewer: ${JSON.stringify(clicked)}`);
  await t.screenshot('explorer-open');
});
