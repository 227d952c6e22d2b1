// Runs the browser tests in the files given as arguments (tests/browser/*.test.mjs), one after another in one
// browser, each test in a fresh context; exits non-zero when any fails. Started by tests/browser/run.
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Harness, registered } from './harness.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('browser tests: no test files given');
  process.exit(2);
}

const harness = await Harness.start();
let failed = 0;
let passed = 0;
const screenshots = [];
try {
  for (const file of files) {
    await import(pathToFileURL(resolve(file)).href);
    const stem = basename(file).replace(/\.test\.mjs$/, '');
    for (const { name, run } of registered()) {
      const started = Date.now();
      const t = await harness.page(stem, name);
      try {
        await run(t);
        await t.finish();
        passed += 1;
        console.log(`ok   ${stem}: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (error) {
        failed += 1;
        await t.screenshot('failure').catch(() => {});
        await t.close();
        console.log(`FAIL ${stem}: ${name}\n${String(error?.stack ?? error).replace(/^/gm, '     ')}`);
      }
      screenshots.push(...t.screenshots);
    }
  }
} finally {
  await harness.close();
}
if (screenshots.length > 0) {
  console.log(`screenshots:\n${screenshots.map((path) => `  ${path}`).join('\n')}`);
}
console.log(`browser tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
