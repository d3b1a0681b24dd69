// What is typed or pasted is never cut or misread without a word. Every text-like input has the
// length the server accepts, and a cut at that length is told at the field; numbers read the
// same in every browser language — a decimal comma is fine, thousands separators are refused
// with a message, by the page and by the server alike (also without JavaScript).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Person, Server, backends, eventually, launchBrowser, yesterday } from './support.js';

const GROUPED = 'Write the number without thousands separators, for example 1500 or 1500.50 (or 1500,50)';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** The text of the elements that describe a field (aria-describedby), joined. */
const description = (locator) =>
  locator.evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.textContent.trim() ?? '')
      .filter(Boolean)
      .join(' | '),
  );

async function startClaim(context, server) {
  const person = new Person(await context.newPage());
  await person.page.goto(`${server.url}/p/demo/motor-claim`);
  await person.press('Start');
  await person.seesHeading('About you');
  return person;
}

/** Step 1 filled in with valid answers, then Next. */
async function toStepTwo(person) {
  await person.fill('Full name', 'Hedy Lamarr');
  await person.fill('Email address', 'hedy@example.org');
  await person.fill('Policy number', 'HL191400');
  await person.press('Next');
  await person.seesHeading('The incident');
}

for (const backend of backends()) {
  test(`${backend}: text cut at the server's limit is told at the field, and saved without a refusal`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    try {
      const person = await startClaim(context, server);
      const refusals = [];
      person.page.on('response', (r) => r.status() === 422 && refusals.push(r.url()));

      // A 48-character phone number, typed: the input stops at 40, and says so.
      const phone = '+44 20 7946 0000 ext 1234 or ask for Ada, please';
      assert.equal(phone.length, 48);
      await person.field('Phone number').pressSequentially(phone);
      await person.seesValue('Phone number', phone.slice(0, 40));
      await eventually('the note at the phone number', async () =>
        (await description(person.field('Phone number'))).includes(
          'This answer is limited to 40 characters; the rest was not kept.',
        ),
      );
      await person.seesSaved();
      assert.equal((await server.session(person.token())).answers.phone, phone.slice(0, 40));

      // 100 KB pasted into a 10,000-character box (after a phone number the step accepts).
      await person.fill('Phone number', '+44 20 7946 0000');
      await toStepTwo(person);
      await person.choose('Was anyone injured?', 'Yes');
      const story = 'A long account of the injuries. '.repeat(3200);
      await person.page.evaluate((text) => navigator.clipboard.writeText(text), story);
      await person.field('Describe the injuries').focus();
      await person.page.keyboard.press('Control+V');
      await eventually('the pasted text, cut', async () => (await person.value('Describe the injuries')).length === 10000);
      assert.match(
        await description(person.field('Describe the injuries')),
        /This answer is limited to 10,000 characters; the rest was not kept\./,
      );
      await person.seesSaved();
      assert.equal((await server.session(person.token())).answers.injury_details, story.slice(0, 10000));

      // Deleting some of it: the note goes.
      await person.field('Describe the injuries').press('Backspace');
      await eventually('the note to go', async () => !(await description(person.field('Describe the injuries'))).includes('limited'));
      assert.deepEqual(refusals, []);
    } finally {
      await context.close();
      await server.stop();
    }
  });

  test(`${backend}: in a German browser, 1500,50 is 1500.5 and 1.500,50 is refused with a word, not stored as 1.5005`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext({ locale: 'de-DE' });
    try {
      const person = await startClaim(context, server);
      await toStepTwo(person);
      const cost = person.field('Estimated cost of repair (EUR)');

      await cost.fill('1.500,50');
      await cost.blur();
      await eventually('the thousands separator note', async () => (await description(cost)).includes(GROUPED));
      await person.seesSaved();
      assert.equal((await server.session(person.token())).answers.estimate, undefined);

      await cost.fill('1.500');
      await cost.blur();
      await eventually('the two readings', async () =>
        (await description(cost)).includes('1.500 could mean 1500 or 1.5: write one of these, without a thousands separator'),
      );

      await cost.fill('1500,50');
      await cost.blur();
      await eventually('the note to go', async () => !(await description(cost)).includes('could mean'));
      await person.seesSaved();
      await eventually('the server to hold 1500.5', async () => (await server.session(person.token())).answers.estimate === 1500.5);
      assert.equal(await description(cost), '');
    } finally {
      await context.close();
      await server.stop();
    }
  });

  test(`${backend}: without JavaScript, the server reads numbers as the page does`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext({ locale: 'de-DE', javaScriptEnabled: false });
    try {
      const person = await startClaim(context, server);
      await toStepTwo(person);
      await person.fill('When did it happen?', yesterday());
      await person.choose('Which vehicle?', 'Van or minibus');
      await person.choose('Was anyone injured?', 'No');
      await person.fill('Estimated cost of repair (EUR)', '1.500,50');
      await person.press('Next');
      await person.seesHeading('The incident');
      assert.match(await person.page.locator('#error-summary').textContent(), /without thousands separators/);
      assert.equal(await person.value('Estimated cost of repair (EUR)'), '1.500,50');

      await person.fill('Estimated cost of repair (EUR)', '1500,50');
      await person.press('Next');
      await person.seesHeading('Confirm');
      assert.equal((await server.session(person.token())).answers.estimate, 1500.5);
    } finally {
      await context.close();
      await server.stop();
    }
  });
}
