// A person files the demo motor claim while the server crashes twice under them: they keep
// typing, are told their answers are kept on the device, cannot move on or submit while the
// server is down, reload the page and still see everything, and once the server is back the
// page says "Saved" by itself. The submission holds every answer, including those typed while
// the server was down.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Person, Server, backends, launchBrowser, yesterday } from './support.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const backend of backends()) {
  test(`${backend}: answers typed while the server is down are kept, shown after a reload, and submitted`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const person = new Person(page);
      const date = yesterday();

      // Step 1, with the server up.
      await page.goto(`${server.url}/p/demo/motor-claim`);
      await person.press('Start');
      await person.seesHeading('About you');
      await person.fill('Full name', 'Ada Lovelace');
      await person.fill('Email address', 'ada@example.org');
      await person.fill('Policy number', 'AB123456');
      await person.seesSaved();
      await person.press('Next');
      await person.seesHeading('The incident');

      // Part of step 2; the page is saved and kept for offline use.
      await person.fill('When did it happen?', date);
      await person.choose('Which vehicle?', 'Van or minibus');
      await person.seesSaved();
      await person.pageKeptWith('The incident');

      // The server crashes. The person keeps typing; a field appears as they answer.
      await server.kill();
      await person.choose('Was anyone injured?', 'Yes');
      await person.fill('Describe the injuries', 'A sprained wrist');
      await person.choose('What was damaged?', 'bodywork');
      await person.choose('What was damaged?', 'lights');
      await person.fill('Estimated cost of repair (EUR)', '1250.50');
      await person.field('Estimated cost of repair (EUR)').blur();
      const kept = await person.seesKeptOnDevice();
      assert.match(kept, /saved when the connection is back/);

      // Next is refused in the page; the form stays as it is.
      await person.press('Next');
      assert.match(await person.alertText(), /answers are safe/);
      await person.seesHeading('The incident');
      assert.equal(await person.value('Describe the injuries'), 'A sprained wrist');

      // A reload while the server is down shows the form with every answer.
      await page.reload();
      await person.seesHeading('The incident');
      await person.seesValue('When did it happen?', date);
      await person.seesTicked('Van or minibus', true, 'Which vehicle?');
      await person.seesTicked('Yes', true, 'Was anyone injured?');
      await person.seesValue('Describe the injuries', 'A sprained wrist');
      await person.seesTicked('bodywork', true, 'What was damaged?');
      await person.seesTicked('lights', true, 'What was damaged?');
      await person.seesTicked('windows', false, 'What was damaged?');
      await person.seesValue('Estimated cost of repair (EUR)', '1250.5');
      await person.seesKeptOnDevice();

      // The server comes back: the page saves by itself.
      await server.restart();
      await person.seesSaved(30000);
      await person.press('Next');
      await person.seesHeading('Confirm');
      await person.fill('Name of the bank account holder', 'Ada Lovelace');
      await person.seesSaved();
      await person.pageKeptWith('Confirm');

      // It crashes again just before Submit.
      await server.kill();
      await person.fill('Name of the bank account holder', 'Ada King, Countess of Lovelace');
      await person.field('I confirm that the information I gave is correct').check();
      await person.seesKeptOnDevice();
      await person.press('Submit');
      const refused = await person.alertText();
      assert.match(refused, /answers are safe/);
      assert.match(refused, /Submitting will work once the service is back/);
      await person.seesHeading('Confirm');

      await page.reload();
      await person.seesHeading('Confirm');
      await person.seesValue('Name of the bank account holder', 'Ada King, Countess of Lovelace');
      await person.seesTicked('I confirm that the information I gave is correct');
      await person.seesKeptOnDevice();

      await server.restart();
      await person.seesSaved(30000);
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
        damage: ['bodywork', 'lights'],
        estimate: 1250.5,
        account_holder: 'Ada King, Countess of Lovelace',
        agree: true,
      });
    } finally {
      await context.close();
      await server.stop();
    }
  });
}
