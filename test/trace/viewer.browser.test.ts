/**
 * The HTML trace viewer in a real browser: Debian's chromium, headless, driven by playwright-core.
 * Skipped (with the reason printed) where /usr/bin/chromium is not installed; .ci/install-chromium
 * installs it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realTrace } from './support.js';
import { saveHtml, type TimelineModel, type TraceData } from '../../harness/trace/index.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`viewer.browser.test: skipped: ${CHROMIUM} is not installed (run .ci/install-chromium, or apt-get install chromium)`);
}
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = fileURLToPath(new URL('../../.raft-harness/screenshots/', import.meta.url));
const EVIL = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';


const evil: TraceData = {
  seed: 9,
  ids: ['n1', EVIL],
  trace: [
    { time: 0, node: 'n1', type: 'start', incarnation: 1 },
    { time: 0, node: EVIL, type: 'start', incarnation: 1 },
    { time: 5, node: EVIL, type: 'role', from: 'follower', to: 'leader', term: 1 },
    { time: 6, node: EVIL, type: 'send', to: 'n1', message: 'AppendEntries' },
    { time: 9, node: 'n1', type: 'deliver', from: EVIL, message: 'AppendEntries' },
    { time: 12, node: EVIL, type: 'crash' },
    { time: 14, node: 'n1', type: EVIL, payload: EVIL },
    // Names that are also Object.prototype's keys are names like any other.
    { time: 15, node: 'n1', type: 'constructor' },
    { time: 16, node: 'n1', type: 'send', to: EVIL, message: '__proto__' },
    { time: 17, node: 'n1', type: 'role', from: 'follower', to: 'toString', term: 2 },
  ],
  history: [{ client: EVIL, input: { op: 'credit', amount: EVIL }, call: 3, output: { ok: true, balance: EVIL }, return: 10 }],
  verdict: { result: 'violation', detail: EVIL },
};

type Opened = { page: Page; errors: string[]; requests: string[] };
/** What the viewer exposes on window, for tests and the console. */
type Viewer = { model: TimelineModel; zoom(pxPerMs: number): void; scrollTo(ms: number): void; select(key: string): void };

describe('the HTML trace viewer in headless Chromium', () => {
  let dir = '';
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    if (!hasChromium) return;
    dir = mkdtempSync(join(tmpdir(), 'trace-viewer-'));
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1600, height: 900 },
    });
    // Nothing but the file itself may load.
    await context.route(/^(?!file:)/, (route) => route.abort());
  });

  afterAll(async () => {
    await context?.close();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  async function open(data: TraceData, path: string): Promise<Opened> {
    saveHtml(data, path);
    const page = await context!.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
    });
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(path).href);
    return { page, errors, requests };
  }

  const texts = (page: Page, selector: string): Promise<string[]> => page.locator(selector).allTextContents();
  const count = (page: Page, selector: string): Promise<number> => page.locator(selector).count();

  it.skipIf(!hasChromium)('shows a lane per node, role bands, arrows, faults, the verdict, and details on click', async () => {
    const data = await realTrace((n) => ({ result: 'ok', detail: `linearizable (${n} operations)` }));
    const { page, errors, requests } = await open(data, join(SCREENSHOTS, 'viewer.html'));

    expect(await texts(page, '#labels .lane-label .name')).toEqual(['network', 'n1', 'n2', 'n3', 'n4', 'n5', 'client1']);
    expect(await count(page, '#chart rect.lane')).toBe(7);
    expect(await count(page, '#chart .band.role-leader')).toBeGreaterThanOrEqual(1);
    expect(await count(page, '#chart .band.role-follower')).toBeGreaterThanOrEqual(5);
    expect(await count(page, '#chart .arrow.outcome-delivered')).toBeGreaterThan(100);
    expect(await count(page, '#chart .arrow.outcome-dropped')).toBeGreaterThanOrEqual(1);
    expect(await count(page, '#chart .period-partition')).toBe(1);
    expect(await count(page, '#chart .period-crashed')).toBe(1);
    expect(await count(page, '#chart .mark.kind-crash')).toBe(1);
    expect(await count(page, '#chart .op')).toBe(2);
    expect(await page.locator('#banner').getAttribute('class')).toBe('verdict-ok');
    expect(await page.locator('#verdict').textContent()).toBe('✓ Verdict: OKlinearizable (2 operations)');
    expect(await page.locator('#summary').textContent()).toContain('seed 3 · nodes n1, n2, n3, n4, n5');
    expect(await texts(page, '#legend label')).toEqual(expect.arrayContaining(['AppendEntries', 'RequestVote', 'PreVote']));

    // A real click on an operation's row.
    await page.locator('#ops tbody tr').first().click();
    expect(await page.locator('#details h3').textContent()).toBe('client1: credit 5');
    // An arrow: the message with its send and its delivery.
    await page.locator('#chart .arrow.outcome-delivered[data-type="AppendEntries"]').first().dispatchEvent('click');
    expect(await page.locator('#details h3').textContent()).toBe('AppendEntries');
    expect(await page.locator('#details .sub').textContent()).toMatch(/^n\d → n\d · delivered$/);
    expect(await texts(page, '#details h4')).toEqual(expect.arrayContaining([expect.stringMatching(/^Send · entry #\d+$/), expect.stringMatching(/^delivered · entry #\d+$/)]));
    // The leader's other sends of that instant are listed; a real click shows one.
    const sibling = page.locator('#details li:not(.current)').first();
    const [node, type] = (await sibling.textContent())!.split(' ');
    await sibling.click();
    expect(await page.locator('#details h3').textContent()).toBe(type);
    expect(await page.locator('#details .sub').textContent()).toMatch(new RegExp(`^on ${node} at \\d+ ms · trace entry #\\d+$`));
    // An event: the crash, with all its fields.
    await page.locator('#chart .mark.kind-crash').dispatchEvent('click');
    expect(await page.locator('#details h3').textContent()).toBe('crash');
    expect(await texts(page, '#details table td')).toContain('n4');
    // A role band.
    await page.locator('#chart .band.role-leader').first().dispatchEvent('click');
    expect(await page.locator('#details h3').textContent()).toMatch(/^leader · term \d+$/);

    // Zooming widens the chart; a legend checkbox hides a message type.
    const width = Number(await page.locator('#chart').getAttribute('width'));
    await page.locator('#zoom-in').click();
    expect(Number(await page.locator('#chart').getAttribute('width'))).toBeGreaterThan(width);
    await page.locator('#zoom-fit').click();
    expect(Number(await page.locator('#chart').getAttribute('width'))).toBe(width);
    await page.locator('#legend label', { hasText: /^AppendEntries$/ }).click();
    expect(await count(page, '#chart .arrow[data-type="AppendEntries"]')).toBe(0);
    await page.locator('#legend label', { hasText: /^AppendEntries$/ }).click();
    expect(await count(page, '#chart .arrow[data-type="AppendEntries"]')).toBeGreaterThan(0);

    await page.locator('#chart .arrow.outcome-delivered[data-type="AppendEntries"]').nth(5).dispatchEvent('click');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer.png'), fullPage: true });
    // And the first election up close, its leader band selected.
    await page.evaluate(() => {
      const viewer = (globalThis as unknown as { traceViewer: Viewer }).traceViewer;
      const band = viewer.model.bands.findIndex((b) => b.role === 'leader');
      viewer.zoom(8);
      viewer.scrollTo(viewer.model.bands[band]!.start);
      viewer.select(`b:${band}`);
    });
    expect(await page.locator('#details h3').textContent()).toMatch(/^leader · term \d+$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer-zoomed.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests.every((url) => url.startsWith('file:'))).toBe(true);
    await page.close();
  });

  it.skipIf(!hasChromium)('shows hostile strings as text and runs none of them', async () => {
    const { page, errors, requests } = await open(evil, join(dir, 'evil', 'trace.html'));
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await count(page, 'img')).toBe(0);
    expect(await count(page, 'script')).toBe(2);
    expect(await texts(page, '#labels .lane-label .name')).toEqual(['network', 'n1', EVIL, EVIL]);
    expect(await page.locator('#banner').getAttribute('class')).toBe('verdict-violation');
    expect(await page.locator('#verdict').textContent()).toBe(`✗ Verdict: VIOLATION${EVIL}`);
    const cells = await texts(page, '#ops tbody td');
    expect(cells.slice(0, 1).concat(cells.slice(2, 5))).toEqual([EVIL, '3 ms', '10 ms', '7 ms']);
    expect(cells[1]).toMatch(/^credit <\/script><script>window.__pwn/); // long inputs are cut to a phrase
    expect(cells[5]).toMatch(/^\{"ok":true,"balance":"<\/script><script>/);
    await page.locator('#chart .mark.kind-crash').dispatchEvent('click');
    expect(await texts(page, '#details table td')).toContain(EVIL);
    await page.locator('#ops tbody tr').click();
    expect(await page.locator('#details h3').textContent()).toMatch(/^<\/script><script>window.__pwned=1<\/script><img src=x onerror="window.__pwned=2">: credit </);
    expect(await texts(page, '#details table td')).toEqual(expect.arrayContaining([EVIL, JSON.stringify({ amount: EVIL, op: 'credit' }, null, 1)]));
    // An unknown event type, named by the attacker, is a generic mark with its fields.
    await page.locator(`#chart .mark[data-k="e:6"]`).dispatchEvent('click');
    expect(await page.locator('#details h3').textContent()).toBe(EVIL);
    await page.locator(`#chart .mark[data-k="e:7"]`).dispatchEvent('click');
    expect(await page.locator('#details h3').textContent()).toBe('constructor');
    expect(await count(page, '#chart .arrow[data-type="__proto__"]')).toBe(1);
    expect(await texts(page, '#legend label')).toEqual(['AppendEntries', '__proto__']);
    expect(await count(page, '#chart .band.role-toString')).toBe(1);
    expect(await page.title()).toBe('raft-harness trace (seed 9)');
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    expect(requests.every((url) => url.startsWith('file:'))).toBe(true);
    await page.close();
  });
});
