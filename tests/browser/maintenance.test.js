// The seed notice's story (issue 4): a person is filling in the demo motor claim when the
// operator takes the service down for maintenance (`holdfast maintenance begin`). They keep
// typing and are told their answers are kept on the device; Submit is refused with an alert; a
// reload shows the maintenance page (503) with the time the service is expected back. The
// operator ends the maintenance (`holdfast maintenance end`) and, without the person touching
// anything, the maintenance page notices and takes them back to the form at the same step with
// every answer, those typed during the downtime included. Submit then works, the export holds
// every answer, and `holdfast maintenance report` says one session was interrupted, it resumed
// and was submitted, and no change was lost.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Person, Server, backends, eventually, launchBrowser, yesterday } from './support.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** How long the test waits for the maintenance page to return the person (it checks every 30 s). */
const RETURN_TIMEOUT_MS = 40000;

for (const backend of backends()) {
  test(`${backend}: a person interrupted by maintenance loses nothing and is taken back to the form when it ends`, async (t) => {
    const server = await Server.start(backend);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const person = new Person(page);
      const date = yesterday();

      // The person fills in the claim up to its last step.
      await page.goto(`${server.url}/p/demo/motor-claim`);
      await person.press('Start');
      await person.seesHeading('About you');
      await person.fill('Full name', 'Ada Lovelace');
      await person.fill('Email address', 'ada@example.org');
      await person.fill('Policy number', 'AB123456');
      await person.seesSaved();
      await person.press('Next');
      await person.seesHeading('The incident');
      await person.fill('When did it happen?', date);
      await person.choose('Which vehicle?', 'Van or minibus');
      await person.choose('Was anyone injured?', 'Yes');
      await person.fill('Describe the injuries', 'A sprained wrist');
      await person.choose('What was damaged?', 'bodywork');
      await person.fill('Estimated cost of repair (EUR)', '1250.50');
      await person.seesSaved();
      await person.press('Next');
      await person.seesHeading('Confirm');
      await person.fill('Name of the bank account holder', 'Ada Lovelace');
      await person.seesSaved();
      await person.pageKeptWith('Confirm');
      const token = person.token();

      // The operator begins an unscheduled downtime; the CLI answers once it is drained.
      const begun = JSON.parse(
        await server.operator('maintenance', 'begin', '--message', 'Upgrading the database', '--json'),
      );
      assert.equal(begun.drained, true, JSON.stringify(begun));
      const expectedEnd = begun.downtime.expected_end;
      assert.ok(expectedEnd, JSON.stringify(begun));

      // The person keeps typing: it is kept on the device, and the status says so. (The
      // longer status moves the form down a line: the box is ticked once it has.)
      await person.fill('Name of the bank account holder', 'Ada King, Countess of Lovelace');
      await person.field('Name of the bank account holder').blur();
      const kept = await person.seesKeptOnDevice();
      assert.match(kept, /saved when the service is back/);
      await person.field('I confirm that the information I gave is correct').check();
      await person.seesKeptOnDevice();

      // Submit is refused in the page, with the alert; the form stays as it is.
      await person.press('Submit');
      const refused = await person.alertText();
      assert.match(refused, /answers are safe/);
      assert.match(refused, /Submitting will work once the service is back/);
      await person.seesHeading('Confirm');
      assert.equal(await person.value('Name of the bank account holder'), 'Ada King, Countess of Lovelace');

      // A reload shows the maintenance page — the service worker does not hide the 503 — with
      // the time the service is expected back.
      const response = await page.reload();
      assert.equal(response.status(), 503);
      const retryAfter = Number(response.headers()['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 30, `Retry-After ${retryAfter}`);
      await person.seesHeading('Down for maintenance');
      const back = page.locator('main time');
      assert.equal(await back.getAttribute('datetime'), expectedEnd);
      const shown = (await back.textContent()).trim();
      assert.match(shown, /UTC$/, shown);
      assert.match(await page.locator('main').textContent(), new RegExp(`We expect to be back by ${shown}`));
      assert.match(await page.locator('main').textContent(), /Everything you have entered so far is saved/);
      // Nothing typed during the downtime has reached the server.
      const during = await fetch(`${server.url}/api/v1/sessions/${token}`);
      assert.equal(during.status, 503);

      // The operator ends the downtime. The person touches nothing: the maintenance page
      // checks by itself and takes them back to the same step with every answer.
      await server.operator('maintenance', 'end', '--json');
      const ended = Date.now();
      await person.seesHeading('Confirm', RETURN_TIMEOUT_MS);
      const returnedAfter = Date.now() - ended;
      t.diagnostic(`back on the form ${(returnedAfter / 1000).toFixed(1)} s after maintenance ended`);
      assert.equal(new URL(page.url()).pathname, `/s/${token}`);
      await person.seesValue('Name of the bank account holder', 'Ada King, Countess of Lovelace');
      await person.seesTicked('I confirm that the information I gave is correct');
      await person.seesSaved();
      await eventually('no alert', async () => (await page.getByRole('alert').count()) === 0);
      const held = await server.session(token);
      assert.equal(held.answers.account_holder, 'Ada King, Countess of Lovelace');
      assert.equal(held.answers.agree, true);

      await person.press('Submit');
      await person.seesHeading('Thank you');

      const exported = await server.exportSubmissions();
      assert.equal(exported.length, 1, JSON.stringify(exported));
      assert.deepEqual(exported[0].answers, {
        full_name: 'Ada Lovelace',
        email: 'ada@example.org',
        policy_number: 'AB123456',
        incident_date: date,
        vehicle: 'van',
        injured: true,
        injury_details: 'A sprained wrist',
        damage: ['bodywork'],
        estimate: 1250.5,
        account_holder: 'Ada King, Countess of Lovelace',
        agree: true,
      });

      const report = JSON.parse(await server.operator('maintenance', 'report', '--json'));
      assert.equal(report.ongoing, false, JSON.stringify(report));
      assert.equal(report.sessions_active, 1, JSON.stringify(report));
      assert.equal(report.sessions_resumed, 1, JSON.stringify(report));
      assert.equal(report.sessions_submitted, 1, JSON.stringify(report));
      assert.equal(report.changes_lost, 0, JSON.stringify(report));
      assert.ok(report.requests_refused >= 2, JSON.stringify(report));
    } finally {
      await context.close();
      await server.stop();
    }
  });
}
