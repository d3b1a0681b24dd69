// The edges of "never lose an answer": several tabs, closed tabs, refused changes. Each story
// was seen to lose or overwrite an answer while the page said "Saved"; each now holds.
// The merge rule the server enforces is in docs/browser.md ("The merge rule").

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Person, Server, backends, eventually, launchBrowser, sleep } from './support.js';

/** Starts the demo claim and fills in step 1's name and email; returns the person. */
async function startClaim(context, server) {
  const person = new Person(await context.newPage());
  await person.page.goto(`${server.url}/p/demo/motor-claim`);
  await person.press('Start');
  await person.seesHeading('About you');
  await person.fill('Full name', 'Mary Jackson');
  await person.fill('Email address', 'old@example.org');
  await person.seesSaved();
  return person;
}

/** A second tab on the same session, once it shows what the server holds. */
async function secondTab(context, person) {
  const other = new Person(await context.newPage());
  await other.page.goto(person.page.url());
  await other.seesHeading('About you');
  await other.seesValue('Email address', 'old@example.org');
  await other.seesSaved();
  return other;
}

/** The conflict shown at a field: the group with "Keep mine" and "Use the other answer". */
function conflictAt(person, label) {
  return person.page.locator('.field', { has: person.field(label) }).getByRole('group');
}

for (const backend of backends()) {
  test(`${backend}: a stale tab's Next does not wipe a newer answer; the person chooses`, async () => {
    const server = await Server.start(backend);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const a = await startClaim(context, server);
      const b = await secondTab(context, a);
      // B changes the email just after A's page made sure the server had everything, and
      // just before A's step post reaches it: A's page shows the old email as it posts.
      await context.route(/\/s\/[^/]+$/, async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        await b.fill('Email address', 'new@example.org');
        await b.seesSaved();
        return route.continue();
      });
      assert.equal(await a.value('Email address'), 'old@example.org');
      await a.press('Next');
      await eventually('the conflict at the email', () => conflictAt(a, 'Email address').isVisible());
      await a.seesHeading('About you');
      const said = await conflictAt(a, 'Email address').textContent();
      assert.match(said, /new@example\.org/, 'the other value is named');
      assert.doesNotMatch(await a.statusText(), /^Saved$/);
      let held = await server.session(a.token());
      assert.equal(held.answers.email, 'new@example.org', 'the newer email is not wiped');
      assert.equal(held.current_step, 0);

      // The person keeps their own: now it replaces the other, knowingly.
      await conflictAt(a, 'Email address').getByRole('button', { name: 'Keep mine' }).click();
      await a.seesSaved();
      held = await server.session(a.token());
      assert.equal(held.answers.email, 'old@example.org');
      await a.fill('Policy number', 'AB123456');
      await a.press('Next');
      await a.seesHeading('The incident');
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test(`${backend}: values Chromium restores on Back are not taken for typing`, async () => {
    const server = await Server.start(backend);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const a = await startClaim(context, server);
      const b = await secondTab(context, a);
      // The person leaves the form in tab A for another page, and changes the email in B.
      const token = a.token();
      await a.page.goto(`${server.url}/p/demo/motor-claim`);
      await b.fill('Email address', 'new@example.org');
      await b.seesSaved();
      await b.page.close();
      await a.page.goBack();
      await a.seesHeading('About you');
      await a.seesValue('Email address', 'new@example.org');
      await a.seesSaved();
      await sleep(1500);
      assert.equal((await server.session(token)).answers.email, 'new@example.org');
      assert.equal(await a.value('Email address'), 'new@example.org');
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test(`${backend}: a closed tab's unsent answers are sent by the tab still open`, async () => {
    const server = await Server.start(backend);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const a = await startClaim(context, server);
      const b = await secondTab(context, a);
      const token = a.token();
      await server.kill();
      await a.fill('Phone number', '+1 757 555 0100');
      await a.seesKeptOnDevice();
      await a.page.close();
      await b.seesKeptOnDevice();
      await server.restart();
      // B never types; it takes over what A left and sends it.
      await eventually('the closed tab\'s phone number on the server', async () =>
        (await server.session(token)).answers.phone === '+1 757 555 0100',
      );
      await b.seesValue('Phone number', '+1 757 555 0100');
      await b.seesSaved();
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test(`${backend}: an answer the server refuses stays at its field with the reason`, async () => {
    const server = await Server.start(backend);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const a = await startClaim(context, server);
      await a.fill('Phone number', '+44 20 7946 0000');
      await a.seesSaved();
      // 48 characters (an autofill or a script can get past the input's own limit).
      const long = '+44 20 7946 0000 0000 0000 0000 0000 0000 0000 0';
      await a.field('Phone number').evaluate((input, value) => {
        input.value = value;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
      }, long);
      const reason = a.page.locator('#f-phone-held-text');
      await eventually('the reason at the phone number', () => reason.isVisible());
      assert.match(await reason.textContent(), /at most 40 characters/);
      assert.doesNotMatch(await a.statusText(), /^Saved$/);
      assert.equal((await server.session(a.token())).answers.phone, '+44 20 7946 0000');

      // A reload shows the refused answer still, not the old one.
      await a.page.reload();
      await a.seesHeading('About you');
      await a.seesValue('Phone number', long);
      await eventually('the reason after a reload', () => reason.isVisible());

      // Next does not go on with the old number behind the person's back.
      await a.fill('Policy number', 'AB123456');
      await a.press('Next');
      await sleep(1000);
      await a.seesHeading('About you');
      assert.equal((await server.session(a.token())).current_step, 0);

      // Correcting it saves it.
      await a.fill('Phone number', '+44 20 7946 0001');
      await a.seesSaved();
      assert.equal((await server.session(a.token())).answers.phone, '+44 20 7946 0001');
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test(`${backend}: two tabs offline: an older text never silently wins`, async () => {
    const server = await Server.start(backend);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const a = await startClaim(context, server);
      const b = await secondTab(context, a);
      const token = a.token();
      await context.setOffline(true);
      await b.fill('Full name', 'Mary J');
      await sleep(700);
      await b.fill('Full name', 'Mary Jack');
      await sleep(700);
      await a.fill('Full name', 'Mary Jackson-Smith');
      await a.seesKeptOnDevice();
      await sleep(700);
      await context.setOffline(false);

      // Either the last text won, or a tab whose text met a newer one asks the person, who
      // wants the last thing they typed (A's): A keeps its own, B takes the other. (B's older
      // batches may land after A's choice, so the person may be asked again.)
      const last = 'Mary Jackson-Smith';
      let quiet = 0;
      await eventually('the last text on the server, with nothing left to choose', async () => {
        if (await conflictAt(a, 'Full name').isVisible()) {
          await conflictAt(a, 'Full name').getByRole('button', { name: 'Keep mine' }).click();
          quiet = 0;
          return false;
        }
        if (await conflictAt(b, 'Full name').isVisible()) {
          await conflictAt(b, 'Full name').getByRole('button', { name: 'Use the other answer' }).click();
          quiet = 0;
          return false;
        }
        // No choice shown for a while (a late batch may still bring one).
        quiet += 1;
        return quiet > 10 && (await server.session(token)).answers.full_name === last;
      }, 30000);
      // Never did the server hold B's older text at the end, and no choice is left open.
      assert.equal(await conflictAt(a, 'Full name').count(), 0);
      await a.seesSaved();
      // B hears of it when the person looks at it again (or at its next refresh).
      await b.page.bringToFront();
      await b.page.evaluate(() => window.dispatchEvent(new Event('focus')));
      await b.seesValue('Full name', last);
      await b.seesSaved(20000);
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test(`${backend}: every page load numbers its saves afresh: no seq is ever sent twice`, async () => {
    const server = await Server.start(backend);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const a = await startClaim(context, server);
      const sent = [];
      const listen = (page) =>
        page.on('request', (r) => {
          if (r.method() === 'PATCH') sent.push(JSON.parse(r.postData() ?? '{}'));
        });
      listen(a.page);
      await a.fill('Phone number', '0113 496 0000');
      await a.seesSaved();
      // A reload (or a crash that lost what sessionStorage last held) starts a new client.
      await a.page.reload();
      await a.seesHeading('About you');
      await a.fill('Phone number', '0113 496 0001');
      await a.seesSaved();
      const pairs = sent.map((b) => `${b.client}/${b.seq}`);
      assert.ok(sent.length >= 2, `saves seen: ${pairs}`);
      assert.equal(new Set(pairs).size, pairs.length, `a (client, seq) sent twice: ${pairs}`);
      assert.notEqual(sent[0].client, sent.at(-1).client, 'a new client after the reload');
      assert.equal((await server.session(a.token())).answers.phone, '0113 496 0001');
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}
