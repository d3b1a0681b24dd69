// Resuming and sharing a session: the resume link opened in another browser continues at the
// same step with the same answers; "Continue later" shows the link and copies it; two tabs on
// the same session converge without losing either tab's own change.

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

/** Starts the demo claim and fills in step 1; returns the person on step 2. */
async function startClaim(context, server) {
  const person = new Person(await context.newPage());
  await person.page.goto(`${server.url}/p/demo/motor-claim`);
  await person.press('Start');
  await person.seesHeading('About you');
  await person.fill('Full name', 'Grace Hopper');
  await person.fill('Email address', 'grace@example.org');
  await person.fill('Policy number', 'GH000001');
  await person.seesSaved();
  await person.press('Next');
  await person.seesHeading('The incident');
  return person;
}

for (const backend of backends()) {
  test(`${backend}: the resume link continues in another browser at the same step with the same answers`, async () => {
    const server = await Server.start(backend);
    const first = await browser.newContext();
    const second = await browser.newContext();
    try {
      await first.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      const person = await startClaim(first, server);
      const date = yesterday();
      await person.fill('When did it happen?', date);
      await person.choose('Which vehicle?', 'motorbike');
      await person.choose('What was damaged?', 'windows');
      await person.fill('Estimated cost of repair (EUR)', '300');
      await person.seesSaved();

      // "Continue later" shows the link, and Copy puts it on the clipboard.
      const page = person.page;
      const continueLater = page.getByRole('button', { name: 'Continue later' });
      assert.equal(await continueLater.getAttribute('aria-expanded'), 'false');
      await continueLater.click();
      assert.equal(await continueLater.getAttribute('aria-expanded'), 'true');
      const link = (await page.getByRole('link', { name: /\/s\// }).textContent()).trim();
      assert.equal(link, page.url());
      await page.getByRole('button', { name: 'Copy link' }).click();
      await eventually('"Link copied"', async () => (await page.getByText('Link copied').count()) === 1);
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);

      // Another browser (no journal, no service worker) opens the link.
      const elsewhere = new Person(await second.newPage());
      await elsewhere.page.goto(link);
      await elsewhere.seesHeading('The incident');
      await elsewhere.seesValue('When did it happen?', date);
      await elsewhere.seesTicked('motorbike', true, 'Which vehicle?');
      await elsewhere.seesTicked('windows', true, 'What was damaged?');
      await elsewhere.seesTicked('bodywork', false, 'What was damaged?');
      await elsewhere.seesValue('Estimated cost of repair (EUR)', '300');
      await elsewhere.seesSaved();

      // And carries on from there: Back shows step 1 as it was filled in.
      await elsewhere.press('Back');
      await elsewhere.seesHeading('About you');
      await elsewhere.seesValue('Full name', 'Grace Hopper');
      await elsewhere.seesValue('Policy number', 'GH000001');
    } finally {
      await first.close();
      await second.close();
      await server.stop();
    }
  });

  test(`${backend}: two tabs on the same session converge and keep each tab's own change`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext();
    try {
      const one = await startClaim(context, server);
      const two = new Person(await context.newPage());
      await two.page.goto(one.page.url());
      await two.seesHeading('The incident');
      await two.seesSaved();

      // Each tab edits a field of its own, and both edit the estimate; the later one wins.
      await one.fill('When did it happen?', yesterday());
      await one.fill('Estimated cost of repair (EUR)', '100');
      await one.seesSaved();
      await two.choose('Which vehicle?', 'car');
      await two.choose('What was damaged?', 'lights');
      await two.fill('Estimated cost of repair (EUR)', '200');
      await two.seesSaved();

      // Once each has looked at the server again (when it is shown, or within 15 s), both
      // show the same answers.
      for (const tab of [one, two]) {
        await tab.page.bringToFront();
        await tab.page.evaluate(() => window.dispatchEvent(new Event('focus')));
      }
      const expected = { incident_date: yesterday(), vehicle: 'car', damage: ['lights'], estimate: 200 };
      for (const tab of [one, two]) {
        await tab.seesValue('When did it happen?', expected.incident_date);
        await tab.seesTicked('car', true, 'Which vehicle?');
        await tab.seesTicked('lights', true, 'What was damaged?');
        await tab.seesValue('Estimated cost of repair (EUR)', '200');
        await tab.seesSaved();
      }
      const held = await server.session(one.token());
      for (const [field, value] of Object.entries(expected)) assert.deepEqual(held.answers[field], value, field);
      assert.equal(held.answers.full_name, 'Grace Hopper');
    } finally {
      await context.close();
      await server.stop();
    }
  });
}
