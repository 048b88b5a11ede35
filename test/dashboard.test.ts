import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MARKUP, type SeededFleet, seedFleet } from './dashboard-fleet';
import { call, report, stack } from './helpers';

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core; no browser is
 * downloaded) against the real local stack with a seeded fleet. One browser for the whole file.
 * `QM_DASHBOARD_SCREENSHOTS=docs/dashboard` also saves the README's screenshots.
 */
const SHOTS = process.env.QM_DASHBOARD_SCREENSHOTS;
const CHROMIUM = process.env.QM_CHROMIUM ?? '/usr/bin/chromium';

let ctx: BrowserContext;
let profile: string;
let fleet: SeededFleet;
let prefix: string;

const dashboard = () => `${stack().baseUrl}/dashboard`;

/** Uncaught errors of the page's script; every test ends with none. */
const pageErrors: string[] = [];

const openPage = async (): Promise<Page> => {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
};

const shot = async (page: Page, name: string) => {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
};

/** Only this file's hosts in the table: the shared stack holds every other test file's hosts too. */
const filterToSeeded = async (page: Page) => {
  await page.fill('#filter-text', prefix);
  await expect.poll(() => page.locator('#hosts tbody tr').count()).toBe(fleet.hosts.length);
};

describe('the dashboard (GET /dashboard) in a browser', () => {
  beforeAll(async () => {
    // Short, so that names fit the tiles of the screenshots; unique enough for one stack's run.
    prefix = `d${(Date.now() % 46_656).toString(36)}`;
    fleet = await seedFleet(stack().baseUrl, stack().operatorToken, stack().secret, prefix);
    profile = mkdtempSync(join(tmpdir(), 'qm-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 1000 },
    });
  }, 120_000);

  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await ctx?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('serves one self-contained HTML page with no token, whose policy runs only its own script', async () => {
    const r = await fetch(dashboard());
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await r.text();
    // Nothing loaded from elsewhere: no src= or href= to another origin, no module or stylesheet links.
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link[^>]+stylesheet/i);
    expect(html.length).toBeLessThan(100_000);
    // Public means the page only: the data behind it still needs the token.
    expect((await call('GET', '/nodes', { token: null })).status).toBe(401);
    expect((await fetch(dashboard(), { headers: { authorization: 'Bearer nonsense' } })).status).toBe(200);
  });

  it('signs in through the form, shows the seeded hosts and totals, sorts and filters the host table', async () => {
    const page = await openPage();
    await page.goto(dashboard());
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isVisible('#fleet')).toBe(false);
    await page.fill('#token-input', stack().operatorToken);
    await page.click('#login-form button[type=submit]');
    for (const host of fleet.hosts) await page.waitForSelector(`#hosts tr[data-host="${host}"]`, { timeout: 15_000 });
    for (const host of fleet.hosts) expect(await page.isVisible(`#tiles a[data-host="${host}"]`)).toBe(true);
    expect(await page.textContent('[data-total="hosts"]')).toMatch(/\d+ up/);
    expect(await page.textContent(`#hosts tr[data-host="${fleet.disabledHost}"]`)).toContain('disabled');
    expect(await page.textContent(`#tiles a[data-host="${fleet.driftHost}"]`)).toContain('drift 1');

    await filterToSeeded(page);
    expect(await page.textContent('#shown')).toMatch(new RegExp(`^${fleet.hosts.length} of \\d+ shown$`));
    await shot(page, 'fleet');
    // RAM, fullest first: rack1-01 holds 61,440 of 65,536 MB (94 %), the most of the seeded hosts.
    await page.click('th[data-key="ram"] button');
    await page.click('th[data-key="ram"] button');
    expect(await page.getAttribute('th[data-key="ram"]', 'aria-sort')).toBe('descending');
    expect(await page.getAttribute('#hosts tbody tr:first-child', 'data-host')).toBe(`${prefix}-rack1-01`);
    await page.selectOption('#filter-state', 'disabled');
    await expect.poll(() => page.locator('#hosts tbody tr').count()).toBe(1);
    expect(await page.getAttribute('#hosts tbody tr', 'data-host')).toBe(fleet.disabledHost);
    await page.close();
  });

  it('refreshes in place: new figures appear in the same row, and sort, filter and scroll are kept', async () => {
    const page = await openPage();
    await page.goto(`${dashboard()}#token=${encodeURIComponent(stack().operatorToken)}`);
    await page.waitForSelector(`#hosts tr[data-host="${fleet.ramHost}"]`, { timeout: 15_000 });
    await filterToSeeded(page);
    await page.click('th[data-key="vms"] button');
    const row = `#hosts tr[data-host="${fleet.ramHost}"]`;
    // A mark on the element itself: a re-render that replaced the row would lose it.
    await page.$eval(row, (tr: any) => {
      tr.qmMark = 1;
    });
    expect(await page.textContent(`${row} td:nth-child(7)`)).toBe('0');
    expect(await page.getAttribute('#hosts tbody tr:first-child', 'data-host')).toBe(fleet.ramHost);
    const r = await report(fleet.ramHost, {
      availability_zone: `${prefix}-az1`,
      running_vms: 7,
      vcpus: 32,
      vcpus_used: 20,
      memory_mb_used: 61_440,
      seq: 2,
    });
    expect(r.status).toBe(200);
    await expect.poll(() => page.textContent(`${row} td:nth-child(7)`), { timeout: 20_000 }).toBe('7');
    expect(await page.$eval(row, (tr: any) => tr.qmMark)).toBe(1);
    expect(await page.inputValue('#filter-text')).toBe(prefix);
    expect(await page.getAttribute('th[data-key="vms"]', 'aria-sort')).toBe('ascending');
    // Ascending by VMs (ties by name): rack1-01 was first with 0, and with 7 it is last of the seeded hosts.
    expect(await page.getAttribute('#hosts tbody tr:last-child', 'data-host')).toBe(fleet.ramHost);
    await page.close();
  });

  it('shows a host’s detail and renders what clients wrote (metadata, reasons) as text, never as markup', async () => {
    const page = await openPage();
    await page.goto(`${dashboard()}#token=${encodeURIComponent(stack().operatorToken)}`);
    await page.waitForSelector(`#hosts tr[data-host="${fleet.markupHost}"]`, { timeout: 15_000 });
    await page.click(`#hosts tr[data-host="${fleet.markupHost}"] a`);
    await page.waitForSelector('#host-name');
    expect(await page.textContent('#host-name')).toBe(fleet.markupHost);
    expect(await page.textContent('#host-metadata')).toContain(MARKUP);
    expect(await page.$$('main img')).toHaveLength(0);
    expect(await page.title()).toBe('Quartermaster');

    // rack4-01 holds two of the placed decision's claims.
    await page.goto(`${dashboard()}#host=${prefix}-rack4-01`);
    await expect.poll(() => page.textContent('#host-name')).toBe(`${prefix}-rack4-01`);
    expect(await page.locator('#host-claims tbody tr').count()).toBe(2);
    await shot(page, 'host');

    await page.goto(`${dashboard()}#host=${fleet.driftHost}`);
    await expect.poll(() => page.textContent('#host-name')).toBe(fleet.driftHost);
    expect(await page.textContent('#host-drift')).toContain('unknown_instance');
    await page.goto(`${dashboard()}#host=${fleet.disabledHost}`);
    await expect.poll(() => page.textContent('#host-name')).toBe(fleet.disabledHost);
    expect(await page.textContent('#host')).toContain('firmware upgrade <b>until Friday</b>');
    expect(await page.$$('#host b')).toHaveLength(0);
    await page.close();
  });

  it('signs in from #token=, takes the token out of the address bar, and shows why a named host was not chosen', async () => {
    const page = await openPage();
    const token = encodeURIComponent(stack().operatorToken);
    await page.goto(`${dashboard()}#token=${token}&decision=${fleet.noValidHostDecision}&host=${fleet.ramHost}`);
    await page.waitForSelector('#verdict', { timeout: 15_000 });
    expect(page.url()).not.toContain('token=');
    expect(page.url()).toContain(`decision=${fleet.noValidHostDecision}`);
    expect(await page.textContent('#decision .badge')).toBe('NoValidHost');
    // rack1-01: 65,536 MB − 61,440 used − 512 reserved = 3,584 MB usable, the request needs 49,152.
    expect(await page.textContent('#verdict')).toMatch(/RamFilter: needs 49152 MB, 3584 MB usable/);
    const row = `#rejections tr[data-host="${fleet.ramHost}"]`;
    expect(await page.textContent(`${row} .filter-name`)).toBe('RamFilter');
    expect(await page.getAttribute(row, 'class')).toBe('hi');
    // Every seeded host of the zone is there with the filter that rejected it.
    const filterOf = async (host: string) => page.textContent(`#rejections tr[data-host="${host}"] .filter-name`);
    expect(await filterOf(`${prefix}-rack1-02`)).toBe('DiskFilter');
    expect(await filterOf(`${prefix}-rack1-03`)).toBe('CoreFilter');
    expect(await filterOf(`${prefix}-rack1-04`)).toBe('IoOpsFilter');
    expect(await filterOf(fleet.disabledHost)).toBe('ComputeFilter');
    expect(await filterOf(`${prefix}-rack3-01`)).toBe('AvailabilityZoneFilter');
    expect(await page.textContent(`#rejections tr[data-host="${fleet.disabledHost}"]`)).toContain(
      'firmware upgrade <b>until Friday</b>',
    );
    await shot(page, 'decision-novalidhost');

    // The same tab, another decision: three picks, survivors ranked with each weigher's part.
    await page.evaluate((id) => {
      (globalThis as any).location.hash = `decision=${id}`;
    }, fleet.placedDecision);
    await page.waitForSelector('#decision .badge.placed');
    expect(await page.$$('#picks tbody tr')).toHaveLength(3);
    expect(await page.textContent('#ranking thead')).toContain('RAMWeigher');
    expect((await page.$$('#ranking tbody tr')).length).toBeGreaterThan(0);
    await shot(page, 'decision-placed');
    await page.close();
  });

  it('answers a refused token with the API’s reason and the sign-in form', async () => {
    const page = await openPage();
    await page.goto(`${dashboard()}#token=qmo.not-a-token`);
    await page.waitForSelector('#login-error:not([hidden])', { timeout: 15_000 });
    expect(await page.textContent('#login-error')).toMatch(/refused the token/);
    expect(await page.isVisible('#login-form')).toBe(true);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
    await page.close();
  });
});
