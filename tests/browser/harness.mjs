// The browser tests' harness, used by runner.mjs and every *.test.mjs: the server started by tests/browser/run
// (BROWSER_TEST_BASE, BROWSER_TEST_TOKEN, BROWSER_TEST_PARTNER_TOKEN), headless Chromium driven over the DevTools protocol by
// playwright-core (which downloads no browser: CHROMIUM names the binary), a page per test that may reach no
// host but the server, and screenshots under target/browser-tests/.
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { chromium } from 'playwright-core';

/** The flags Chromium needs on a machine without internet access and without a display. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Only the loopback address resolves: nothing can leave the machine even if interception missed a request.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

const tests = [];

/** Registers a test: `run(t)` gets the context that `Harness.page` makes for it. */
export function test(name, run) {
  tests.push({ name, run });
}

/** The tests registered so far. */
export function registered() {
  return tests.splice(0);
}

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests with tests/browser/run`);
  return value;
}

export class Harness {
  constructor(browser, base, token, partnerToken, screenshots) {
    this.browser = browser;
    /** The server's origin, e.g. http://127.0.0.1:40123. */
    this.base = base;
    /** An admin token for region 330900 (the whole city). */
    this.token = token;
    /** A token with the `partner` role alone, for region 330900. */
    this.partnerToken = partnerToken;
    this.screenshots = screenshots;
  }

  static async start() {
    const base = required('BROWSER_TEST_BASE');
    const token = required('BROWSER_TEST_TOKEN');
    const partnerToken = required('BROWSER_TEST_PARTNER_TOKEN');
    const screenshots = required('BROWSER_TEST_SCREENSHOTS');
    // playwright-core gives the browser a fresh temporary profile (--user-data-dir) and removes it on close.
    const browser = await chromium.launch({
      executablePath: required('CHROMIUM'),
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 30_000,
    });
    return new Harness(browser, base, token, partnerToken, screenshots);
  }

  /**
   * A fresh browser context and page for the test `name` (file stem and test name). Every request to another
   * origin is refused and recorded; so are page errors, content-security-policy violations and failed
   * responses of the server. `t.finish()` asserts that none happened.
   */
  async page(file, name) {
    const context = await this.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const t = {
      page,
      base: this.base,
      token: this.token,
      partnerToken: this.partnerToken,
      blocked: [],
      problems: [],
      screenshots: [],
    };
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === this.base) return route.continue();
      t.blocked.push(url);
      return route.abort('blockedbyclient');
    });
    page.on('websocket', (socket) => t.blocked.push(socket.url()));
    page.on('pageerror', (error) => t.problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /content security policy/i.test(message.text())) {
        t.problems.push(`content security policy: ${message.text()}`);
      }
    });
    page.on('response', (response) => {
      if (response.status() >= 400) t.problems.push(`HTTP ${response.status()} for ${response.url()}`);
    });
    const directory = join(this.screenshots, file);
    mkdirSync(directory, { recursive: true });
    /** Saves a screenshot of the whole page as `NN-label.png`. */
    t.screenshot = async (label) => {
      const path = join(directory, `${String(t.screenshots.length + 1).padStart(2, '0')}-${label}.png`);
      await page.screenshot({ path });
      t.screenshots.push(relative(process.cwd(), path));
    };
    t.finish = async () => {
      await context.close();
      const failures = [];
      if (t.blocked.length > 0) failures.push(`requests to other hosts: ${t.blocked.join(', ')}`);
      failures.push(...t.problems);
      if (failures.length > 0) throw new Error(failures.join('\n'));
    };
    t.close = () => context.close().catch(() => {});
    return t;
  }

  async close() {
    await this.browser.close();
  }
}

/** Fails with `message` unless `condition` holds. */
export function check(condition, message) {
  if (!condition) throw new Error(message);
}
