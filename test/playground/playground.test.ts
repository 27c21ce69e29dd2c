import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { geometry, reachedOutputs } from '../../playground/src/geometry.js';
import { build } from '../helpers/build.js';
import { projectRoot } from '../helpers/paths.js';

/**
 * The playground in a real browser: Debian's headless Chromium, driven by playwright-core,
 * against a live instance on a loopback port. It changes parameters the way a user does and
 * checks what is drawn against what the API answers.
 */

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(projectRoot, 'test-output');
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (apt-get install -y chromium chromium-driver; .ci/run does): browser test not run`;

/** Everything a cell of a drawn grid says about itself. */
interface DrawnCell {
  row: number;
  col: number;
  value: number | null;
  classes: string[];
}

const cellsOf = (page: Page, grid: string): Promise<DrawnCell[]> =>
  page.$$eval(`#${grid} g.cell`, (nodes) =>
    nodes.map((n) => ({
      row: Number(n.getAttribute('data-row')),
      col: Number(n.getAttribute('data-col')),
      value: n.hasAttribute('data-value') ? Number(n.getAttribute('data-value')) : null,
      classes: [...n.classList],
    })),
  );

/** Rows and columns of the real (not padding) cells drawn. */
const drawnSize = (cells: DrawnCell[]) => {
  const real = cells.filter((c) => !c.classes.includes('ghost'));
  return { rows: new Set(real.map((c) => c.row)).size, cols: new Set(real.map((c) => c.col)).size };
};

describe('the playground in a browser', { skip, timeout: 120_000 }, () => {
  let app: FastifyInstance;
  let origin: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const complaints: string[] = [];

  before(async () => {
    app = await build(null);
    origin = await app.listen({ host: '127.0.0.1', port: 0 });
    profile = mkdtempSync(join(tmpdir(), 'convsvc-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1360, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') complaints.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => complaints.push(`page error: ${e.message}`));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    await app?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const settled = async () => {
    await page.waitForSelector('body:not([data-state="loading"])', { timeout: 20_000 });
    return page.getAttribute('body', 'data-state');
  };

  /** The request the page shows it sent, posted again by the test itself. */
  const replay = async () => {
    const shown = (await page.textContent('#request')) ?? '';
    const [line, ...json] = shown.split('\n');
    const path = line.replace(/^POST /, '');
    const body = JSON.parse(json.join('\n')) as Record<string, unknown>;
    const res = await fetch(origin + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { path, body, status: res.status, answer: (await res.json()) as Record<string, any> };
  };

  it('loads /playground and draws a transposed convolution the API computed', async () => {
    const res = await page.goto(`${origin}/playground`);
    assert.equal(res?.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/playground/');
    assert.match((await res!.allHeaders())['content-security-policy'] ?? '', /script-src 'self'/);
    assert.equal(await settled(), 'ready');
    const { answer } = await replay();
    const [, , rows, cols] = answer.output.shape as number[];
    assert.deepEqual(drawnSize(await cellsOf(page, 'output-grid')), { rows, cols });
    assert.equal(await page.textContent('#output-size'), `${rows} × ${cols}`);
  });

  it("redraws when stride and padding change: the drawn size, the formula and every value are the API's", async () => {
    await page.fill('input[name="stride"]', '3');
    await page.fill('input[name="padding"]', '2');
    assert.equal(await settled(), 'ready');
    const { body, answer } = await replay();
    assert.equal(body.stride, 3);
    assert.equal(body.padding, 2);
    // (3 − 1)·3 − 2·2 + 1·(3 − 1) + 0 + 1 = 5
    assert.deepEqual(answer.output.shape, [1, 1, 5, 5]);
    const cells = await cellsOf(page, 'output-grid');
    assert.deepEqual(drawnSize(cells), { rows: 5, cols: 5 });
    assert.match((await page.textContent('#formulas')) ?? '', /= \(3 − 1\)·3 − 2·2 \+ 1·\(3 − 1\) \+ 0 \+ 1 = 5/);
    const data = answer.output.data as number[];
    for (const c of cells.filter((c) => !c.classes.includes('ghost')))
      assert.equal(c.value, data[c.row * 5 + c.col], `output (${c.row}, ${c.col})`);
    const centre = cells.find((c) => c.row === 2 && c.col === 2);
    assert.equal(centre?.value, data[12]);
    assert.ok(
      cells.some((c) => c.classes.includes('ghost')),
      'the cropped padding is drawn',
    );
  });

  it('highlights the output pixels an input pixel reaches when it is hovered', async () => {
    await page.hover('#input-grid g.cell[data-row="1"][data-col="2"]');
    const lit = (await cellsOf(page, 'output-grid')).filter(
      (c) => c.classes.includes('lit') && !c.classes.includes('ghost'),
    );
    const g = geometry({
      op: 'conv-transpose2d',
      height: 3,
      width: 3,
      kernelHeight: 3,
      kernelWidth: 3,
      stride: 3,
      padding: 2,
      outputPadding: 0,
      dilation: 1,
    });
    const key = (c: { row: number; col: number }) => `${c.row},${c.col}`;
    assert.deepEqual(lit.map(key).sort(), reachedOutputs(g, { row: 1, col: 2 }).map(key).sort());
    assert.match((await page.textContent('#caption')) ?? '', /^Input pixel \(1, 2\)/);
    await page.screenshot({ path: join(SCREENSHOTS, 'playground.png'), fullPage: true });
  });

  it('shows the problem document the API answers for invalid parameters', async () => {
    await page.fill('input[name="outputPadding"]', '3');
    assert.equal(await settled(), 'error');
    const { status, answer } = await replay();
    assert.equal(status, 422);
    const shown = (await page.textContent('#problem')) ?? '';
    assert.ok(shown.includes(answer.detail as string), `"${shown}" shows "${answer.detail}"`);
    assert.ok(shown.includes('422'));
    assert.equal(await page.$('#output-grid'), null, 'no output is drawn');
    await page.screenshot({ path: join(SCREENSHOTS, 'playground-problem.png'), fullPage: true });
  });

  it('runs under its Content-Security-Policy without a console error', async () => {
    // Loaded here too, so the check has a page to watch when this test runs alone.
    await page.goto(`${origin}/playground/`);
    assert.equal(await settled(), 'ready');
    assert.deepEqual(
      complaints.filter((c) => !/422/.test(c)),
      [],
    );
  });
});
