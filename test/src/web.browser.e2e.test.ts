/**
 * The patient web app (web/) in a real browser: Debian's Chromium driven by
 * playwright-core, against the real stack, the app built fresh and served by
 * the gateway at /app/ under its own strict CSP. Jane signs in and sees her
 * home page (also at phone width), books and cancels an
 * appointment, writes a message through the end of her session without losing
 * it and gets Alex's answer, asks for a renewal that Alex approves, downloads
 * her record; switches to her children's records (Emma's appointments; none of
 * Liam's sensitive notes), sees Alex in "Who looked at my record", gives John
 * access and revokes it; the smart-card button on plain HTTP says why it
 * cannot sign in; with pharmacy stopped, the other home sections still render.
 *
 * The steps share one signed-in page and run in order. Each waits for what
 * the page shows, never for a fixed time. Each page is checked by axe-core
 * (no serious or critical finding) and the browser must report no CSP violation. Screenshots go to web/screenshots/
 * (not committed; docs/ keeps two for the README).
 *
 * Runs on SQLite only (the browser adds nothing a database could change), and
 * is skipped, saying why, where no Chromium is installed
 * (`apt-get install -y chromium`; .ci/run installs it).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { removeTestDir, testTempDir } from '@portal/kit/testing';
import { DEMO } from '@portal/demo';
import { alexToken, dataOf, operation, samToken, startTestStack, type TestStack } from './harness';
import { CareTeamInboxDocument, DecideRenewalDocument, PendingPharmacyRequestsDocument, ReplyToThreadDocument } from './generated/operations';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, 'web', 'screenshots');
const onSqlite = process.env.PORTAL_TEST_DB !== 'postgres';
const skipReason = !fs.existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH`
  : !onSqlite
    ? 'runs on the SQLite project only'
    : undefined;

/** Flags for a headless Chromium on a machine with no outside network (and as root, in CI). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

if (skipReason) {
  if (onSqlite) console.warn(`[tests] web app browser tests skipped: ${skipReason}`);
  describe('patient web app in Chromium', () => {
    test.skip(`skipped: ${skipReason}`, () => undefined);
  });
} else {
  describe('patient web app in Chromium', () => {
    let stack: TestStack;
    let appDir: string;
    let browser: Browser;
    let page: Page;
    /** What the browser's console said about the CSP: the app must run under it untouched. */
    const cspViolations: string[] = [];

    const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true }).click();
    const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });
    /** axe-core's serious and critical findings on the page as it is, evaluated through the DevTools protocol (the page's CSP rightly allows no injected script). */
    const seriousViolations = async (): Promise<{ id: string; nodes: unknown[] }[]> => {
      if (!(await page.evaluate(() => Boolean((globalThis as any).axe)))) await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
      return page.evaluate(async () => {
        const w = globalThis as any;
        const result = await w.axe.run(w.document, { resultTypes: ['violations'] });
        return result.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical').map((v: any) => ({ id: v.id, nodes: v.nodes.map((n: any) => n.target) }));
      });
    };

    beforeAll(async () => {
      appDir = testTempDir('portal-web-');
      // The app as deployed: Vite's production build of web/, into a directory of this run's own.
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', appDir, '--emptyOutDir', '--logLevel', 'warn'], {
        cwd: path.join(ROOT, 'web'),
        stdio: 'pipe',
      });
      stack = await startTestStack({}, { webAppDir: appDir });
      fs.mkdirSync(SHOTS, { recursive: true });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, timezoneId: 'America/New_York', locale: 'en-US' });
      page = await context.newPage();
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
      });
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await stack?.stop();
      removeTestDir(appDir);
    });

    afterEach(() => expect(cspViolations).toEqual([]));

    test('the smart-card button, on plain HTTP with no card, says why in plain words', async () => {
      await page.goto(`${stack.gatewayUrl}/app/`);
      await page.getByRole('button', { name: 'Sign in with a smart card' }).click();
      await page.getByRole('alert').filter({ hasText: 'No smart card was presented' }).waitFor();
      await shot('signin-smart-card');
      expect(await seriousViolations()).toEqual([]);
    });

    test('Jane signs in and sees her home page: every section, no serious accessibility violation, usable at phone width', async () => {
      await page.goto(`${stack.gatewayUrl}/app/`);
      await page.getByLabel('Username').fill('jane.doe');
      await page.getByLabel('Password').fill('Demo-Password-1');
      // By keyboard: Enter in the form signs in.
      await page.getByLabel('Password').press('Enter');
      await heading('Welcome, Jane Doe').waitFor();
      // The page's heading has the focus, for a screen reader to say where the person is.
      expect(await page.evaluate(() => (globalThis as any).document.activeElement?.tagName)).toBe('H1');
      for (const name of ['Upcoming appointments', 'Messages', 'Prescriptions', 'Recent results']) {
        const section = page.getByRole('region', { name });
        await section.getByRole('listitem').first().waitFor();
        expect(await section.getByRole('alert').count()).toBe(0);
      }
      // Nothing about Jane's health in the address or in the browser's storage.
      expect(new URL(page.url()).pathname).toBe('/app/');
      expect(await page.evaluate(() => {
        // Inside the page (the tests are type-checked without the DOM's types).
        const w = globalThis as any;
        return [w.localStorage.length, w.sessionStorage.length, w.document.cookie];
      })).toEqual([0, 0, '']);
      await shot('home');

      expect(await seriousViolations()).toEqual([]);

      await page.setViewportSize({ width: 390, height: 844 });
      await heading('Welcome, Jane Doe').waitFor();
      expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await shot('home-phone');
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    test('books an appointment and cancels it', async () => {
      await nav('Appointments');
      await heading('Appointments').waitFor();
      const mine = page.getByRole('list', { name: 'Your appointments' });
      await mine.getByRole('listitem').first().waitFor();
      const before = await mine.locator('li[data-appointment]').evaluateAll((items) => items.map((i) => i.getAttribute('data-appointment')));

      await page.getByLabel('Clinic').selectOption({ label: 'Family Health Clinic' });
      await page.getByLabel('Type of visit').selectOption('PRIMARY_CARE');
      await page.getByLabel('Reason for the visit (optional)').fill('Browser test check-up');
      await page.getByRole('button', { name: 'Find times' }).click();
      const free = page.getByRole('list', { name: 'Free times' });
      await free.getByRole('button').first().click();
      await page.getByRole('status').filter({ hasText: 'Booked: Primary care at Family Health Clinic' }).waitFor();
      await shot('appointments');
      expect(await seriousViolations()).toEqual([]);

      // The list is read again after booking: one more row.
      await mine.locator('li[data-appointment]').nth(before.length).waitFor();
      const ids = await mine.locator('li[data-appointment]').evaluateAll((items) => items.map((i) => i.getAttribute('data-appointment')));
      const added = ids.find((id) => !before.includes(id))!;
      const row = mine.locator(`li[data-appointment="${added}"]`);
      await row.filter({ hasText: 'Booked' }).waitFor();
      await row.getByRole('button', { name: /^Cancel appointment/ }).click();
      await page.getByLabel('Reason (optional)').fill('Plans changed');
      await page.getByRole('button', { name: 'Yes, cancel it' }).click();
      await page.getByRole('status').filter({ hasText: 'was cancelled' }).waitFor();
      await row.filter({ hasText: 'Cancelled' }).waitFor();
    });

    test('writes a message through the end of her session without losing it, sends it, and reads Alex’s answer', async () => {
      await nav('Messages');
      await heading('Messages').waitFor();
      await page.getByRole('button', { name: 'New message' }).click();
      await page.getByLabel('To', { exact: true }).selectOption({ label: 'Primary Care Team Blue' });
      await page.getByLabel('Topic').selectOption('MEDICATION');
      await page.getByLabel('Subject').fill('Question about my blood pressure');
      const body = 'Should I take my lisinopril in the morning or the evening?';
      await page.getByLabel('Message', { exact: true }).fill(body);

      // The session ends meanwhile (as at its idle end): the next request is refused and sign-in is asked for.
      await stack.subgraphs.identity.database.dataSource.query(`UPDATE session SET ended_at = ? WHERE account_id = ? AND ended_at IS NULL`, [new Date().toISOString(), 'ac-jane-doe']);
      const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
      // Session checks are trusted for a few seconds: ask again (a folder's list) until the refusal arrives.
      // Switching between two folders sends one request each time, until an answer is the refusal.
      for (let i = 0; ; i++) {
        const answered = page.waitForResponse((r) => r.url().endsWith('/graphql'));
        await page.getByRole('group', { name: 'Folder' }).getByRole('button', { name: i % 2 ? /^Inbox/ : /^Sent/ }).click();
        const answer = await (await answered).json();
        if (answer.errors?.some((e: { extensions?: { code?: string } }) => e.extensions?.code === 'UNAUTHENTICATED')) break;
      }
      await dialog.waitFor();
      // The page underneath is inert: nothing there can be reached until the person signs in again.
      expect(await page.locator('.frame').getAttribute('inert')).not.toBeNull();
      await shot('session-ended');
      await dialog.getByLabel('Username').fill('jane.doe');
      await dialog.getByLabel('Password').fill('Demo-Password-1');
      await dialog.getByRole('button', { name: 'Sign in' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await expect(page.getByLabel('Message', { exact: true }).inputValue()).resolves.toBe(body);

      await page.getByRole('button', { name: 'Send message' }).click();
      await page.getByRole('status').filter({ hasText: 'Your message was sent.' }).waitFor();
      await page.getByRole('heading', { level: 2, name: 'Question about my blood pressure' }).waitFor();

      // Alex answers through the graph.
      const alex = await alexToken(stack);
      const inbox = dataOf(await stack.query(CareTeamInboxDocument, { first: 20 }, alex));
      const thread = inbox.me!.practitioner!.careTeams.flatMap((t) => t.threads?.edges ?? []).find((e) => e.node.subject === 'Question about my blood pressure')!;
      dataOf(await stack.query(ReplyToThreadDocument, { threadId: thread.node.id, body: 'Take it in the morning, at the same time each day.' }, alex));

      await nav('Home');
      await nav('Messages');
      await page.getByRole('button', { name: /Question about my blood pressure/ }).click();
      await page.getByText('Take it in the morning, at the same time each day.').waitFor();
      await shot('messages');
      expect(await seriousViolations()).toEqual([]);
    });

    test('saves a draft on the server, opens it from Drafts, edits and sends it, and finds it in Sent', async () => {
      await nav('Messages');
      await heading('Messages').waitFor();
      await page.getByRole('button', { name: 'New message' }).click();
      await page.getByLabel('To', { exact: true }).selectOption({ label: 'Primary Care Team Blue' });
      await page.getByLabel('Subject').fill('A draft about my follow-up');
      await page.getByLabel('Message', { exact: true }).fill('First words of my draft.');
      await page.getByRole('button', { name: 'Save draft' }).click();
      await page.getByRole('status').filter({ hasText: 'Your draft was saved.' }).waitFor();

      const folders = page.getByRole('group', { name: 'Folder' });
      await folders.getByRole('button', { name: /^Drafts/ }).click();
      const drafts = page.getByRole('list', { name: 'Drafts messages' });
      await drafts.getByRole('button', { name: /A draft about my follow-up/ }).click();
      await expect(page.getByLabel('Message', { exact: true }).inputValue()).resolves.toBe('First words of my draft.');
      await page.getByLabel('Message', { exact: true }).fill('First words of my draft, and the rest.');
      await page.getByRole('button', { name: 'Save draft' }).click();
      await page.getByRole('status').filter({ hasText: 'Your draft was saved.' }).waitFor();
      await page.getByRole('button', { name: 'Send message' }).click();
      await page.getByRole('status').filter({ hasText: 'Your message was sent.' }).waitFor();
      await page.getByText('First words of my draft, and the rest.').waitFor();

      await folders.getByRole('button', { name: /^Sent/ }).click();
      await page.getByRole('list', { name: 'Sent messages' }).getByRole('button', { name: /A draft about my follow-up/ }).waitFor();
      await folders.getByRole('button', { name: /^Drafts/ }).click();
      // Sent, it left Drafts (the list is read again on switching folders).
      await page.getByText('No messages in Drafts.').or(page.getByRole('list', { name: 'Drafts messages' })).first().waitFor();
      await page.getByRole('list', { name: 'Drafts messages' }).getByRole('button', { name: /A draft about my follow-up/ }).waitFor({ state: 'detached' });
    });

    test('asks for a renewal that Alex approves', async () => {
      await nav('Medications');
      await heading('Medications').waitFor();
      await page.getByRole('button', { name: 'Request renewal of Metformin' }).click();
      await page.getByLabel('Note to your prescriber (optional)').fill('I have two weeks of tablets left.');
      await page.getByRole('button', { name: 'Send renewal request' }).click();
      await page.getByRole('status').filter({ hasText: 'Renewal of Metformin requested' }).waitFor();
      const metformin = page.locator('li[data-prescription="rx-jane-metformin"]');
      await metformin.getByText('Renewal request: Pending').waitFor();
      await shot('medications');
      expect(await seriousViolations()).toEqual([]);

      // Sam, the pharmacist, sees it waiting; Alex, a practitioner, decides it (only a practitioner may).
      const pending = dataOf(await stack.query(PendingPharmacyRequestsDocument, { kind: 'RENEWAL' }, await samToken(stack))).pendingPharmacyRequests;
      const request = pending.find((r) => r.patient.id === DEMO.jane && r.prescription.id === 'rx-jane-metformin')!;
      const decided = dataOf(await stack.query(DecideRenewalDocument, { requestId: request.id, approve: true, refills: 3 }, await alexToken(stack))).decideRenewal;
      const renewed = decided.newPrescription!.id;

      await nav('Home');
      await nav('Medications');
      await page.locator(`li[data-prescription="${renewed}"]`).getByRole('heading', { name: /Metformin .*\(Active\)/ }).waitFor();
    });

    test('downloads her record as a FHIR bundle', async () => {
      await nav('My record');
      await heading('My record').waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download my record' }).click()]);
      expect(download.suggestedFilename()).toMatch(/^health-record-\d{4}-\d{2}-\d{2}\.json$/);
      const bundle = JSON.parse(fs.readFileSync((await download.path())!, 'utf8'));
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.entry.some((e: any) => e.resource.resourceType === 'Patient' && e.resource.id === DEMO.jane)).toBe(true);
      await page.getByRole('status').filter({ hasText: 'Your record was downloaded' }).waitFor();
      await shot('record');
      expect(await seriousViolations()).toEqual([]);
    });

    test('switches to Emma and sees her appointments and downloads her record, to Liam and sees none of his sensitive notes, keeping the choice out of the URL and storage', async () => {
      const viewing = page.getByLabel('Viewing');
      await viewing.locator('option', { hasText: 'Jane Doe (you)' }).waitFor({ state: 'attached' });
      await viewing.selectOption({ label: 'Emma Doe' });
      await nav('Appointments');
      await heading('Appointments for Emma Doe').waitFor();
      await page.getByRole('list', { name: 'Emma Doe’s appointments' }).locator('li[data-appointment="ap-emma-upcoming-1"]').waitFor();
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/app/');
      expect(await page.evaluate(() => {
        const w = globalThis as any;
        return [w.localStorage.length, w.sessionStorage.length, w.document.cookie];
      })).toEqual([0, 0, '']);
      await shot('proxy-emma-appointments');
      expect(await seriousViolations()).toEqual([]);

      // Her record's download is Emma's too (the id in the request, not the page's address).
      await nav('My record');
      await heading('Emma Doe’s record').waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download Emma Doe’s record' }).click()]);
      const bundle = JSON.parse(fs.readFileSync((await download.path())!, 'utf8'));
      expect(bundle.entry.filter((e: any) => e.resource.resourceType === 'Patient').map((e: any) => e.resource.id)).toEqual([DEMO.emma]);
      await page.getByRole('status').filter({ hasText: 'Emma Doe’s record was downloaded' }).waitFor();
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/app/');

      await viewing.selectOption({ label: 'Liam Doe' });
      await nav('Results and notes');
      await heading('Results and notes for Liam Doe').waitFor();
      const notes = page.getByRole('list', { name: 'Liam Doe’s visit notes' });
      await notes.getByText('Sports physical').waitFor();
      expect(await notes.getByText('Counseling intake').count()).toBe(0);
      expect(await page.getByText('Chlamydia').count()).toBe(0);
      await shot('proxy-liam-results');
      expect(await seriousViolations()).toEqual([]);

      // Back to her own record.
      await viewing.selectOption({ index: 0 });
      await nav('Home');
      await heading('Welcome, Jane Doe').waitFor();
    });

    test('sees Alex in "Who looked at my record" after he read her results', async () => {
      // A pending request of Jane's leads Alex to her record, from which he reads her results.
      const jane = await stack.signIn('jane.doe', 'Demo-Password-1');
      const rx = dataOf(await stack.query('{ me { patient { prescriptions { id refillable pendingRequest { id } } } } }', {}, jane)).me.patient.prescriptions;
      if (!rx.some((x: any) => x.pendingRequest)) {
        const refillable = rx.find((x: any) => x.refillable);
        dataOf(await stack.query(operation('RequestRefill'), { prescriptionId: refillable.id }, jane));
      }
      const requests = dataOf(await stack.query('{ pendingPharmacyRequests { patient { id labResults(first: 5) { edges { node { id } } } } } }', {}, await alexToken(stack)));
      expect(requests.pendingPharmacyRequests.some((r: any) => r.patient.id === DEMO.jane && r.patient.labResults.edges.length > 0)).toBe(true);

      await nav('Who looked at my record');
      await heading('Who looked at my record').waitFor();
      const table = page.getByRole('table', { name: 'Access to your record' });
      await table.getByRole('row').filter({ hasText: 'Alex Kim' }).filter({ hasText: 'Practitioner' }).first().waitFor();
      // Her own reads are left out until she asks for them (her own changes, a booking or a message, are listed).
      const ownReads = table.getByRole('row').filter({ has: page.getByRole('cell', { name: 'You', exact: true }) }).filter({ has: page.getByRole('cell', { name: 'Read', exact: true }) });
      expect(await ownReads.count()).toBe(0);
      await shot('access-log');
      expect(await seriousViolations()).toEqual([]);

      await page.getByLabel('Include my own reads').check();
      await ownReads.first().waitFor();
    });

    test('gives John access to her record and revokes it', async () => {
      await nav('People who can see my record');
      await heading('People who can see my record').waitFor();
      await page.getByLabel('Their DoD ID').fill('1000000002');
      await page.getByLabel('Messages').check();
      await page.getByRole('button', { name: 'Give access' }).click();
      await page.getByRole('status').filter({ hasText: 'John Roe can now see your record' }).waitFor();
      const revoke = page.getByRole('button', { name: 'Revoke access for John Roe' });
      await revoke.waitFor();
      await shot('people');
      expect(await seriousViolations()).toEqual([]);

      // John, in a browser of his own, sees Jane's appointments and messages; her medications are not in his grant: a plain sentence, not an error.
      const johns = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'America/New_York', locale: 'en-US' });
      try {
        const john = await johns.newPage();
        await john.goto(`${stack.gatewayUrl}/app/`);
        await john.getByLabel('Username').fill('john.roe');
        await john.getByLabel('Password').fill('Demo-Password-2');
        await john.getByRole('button', { name: 'Sign in', exact: true }).click();
        await john.getByRole('heading', { level: 1, name: 'Welcome, John Roe' }).waitFor();
        const viewing = john.getByLabel('Viewing');
        await viewing.locator('option', { hasText: 'Jane Doe' }).waitFor({ state: 'attached' });
        await viewing.selectOption({ label: 'Jane Doe' });
        await john.getByRole('heading', { level: 1, name: 'Jane Doe’s record' }).waitFor();
        await john.getByRole('region', { name: 'Medications' }).getByText('Your access to Jane Doe’s record does not include medications.').waitFor();
        await john.getByRole('region', { name: 'Appointments' }).getByRole('listitem').first().waitFor();
        await john.getByRole('region', { name: 'Messages' }).getByRole('listitem').first().waitFor();
        expect(await john.getByRole('alert').count()).toBe(0);
        await john.screenshot({ path: path.join(SHOTS, 'proxy-john-viewing-jane.png'), fullPage: true });
      } finally {
        await johns.close();
      }

      await revoke.click();
      await page.getByRole('status').filter({ hasText: 'John Roe can no longer see your record' }).waitFor();
      await revoke.waitFor({ state: 'detached' });
    });

    test('with pharmacy stopped, the home page shows its section’s error and retry, and every other section', async () => {
      await nav('Results and notes');
      await page.getByRole('table').getByRole('row').nth(1).waitFor();
      await page.getByRole('region', { name: 'Health library' }).getByRole('listitem').first().waitFor();
      await shot('results');
      expect(await seriousViolations()).toEqual([]);

      await stack.subgraphs.pharmacy.close();
      await nav('Home');
      await heading('Welcome, Jane Doe').waitFor();
      const prescriptions = page.getByRole('region', { name: 'Prescriptions' });
      await prescriptions.getByRole('alert').filter({ hasText: 'not available right now' }).waitFor();
      await prescriptions.getByRole('button', { name: 'Try prescriptions again' }).waitFor();
      for (const name of ['Upcoming appointments', 'Messages', 'Recent results']) {
        const section = page.getByRole('region', { name });
        await section.getByRole('listitem').first().waitFor();
        expect(await section.getByRole('alert').count()).toBe(0);
      }
      // The retry asks again; pharmacy is still down, so the section says so again and the others stay.
      await prescriptions.getByRole('button', { name: 'Try prescriptions again' }).click();
      await prescriptions.getByRole('button', { name: 'Try prescriptions again' }).waitFor();
      await page.getByRole('region', { name: 'Recent results' }).getByRole('listitem').first().waitFor();
      await shot('home-pharmacy-down');
    });
  });
}
