// The service answering 503 (maintenance) rather than not answering at all: the page keeps the
// answers on the device, does not retry before Retry-After, refuses Submit with an alert, and
// saves by itself once the service is back; a page reload during the 503 shows the maintenance
// page, not the service worker's copy. The 503s are played by the browser's request routing,
// so these run on SQLite only: the storage is not what they are about.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Person, Server, eventually, launchBrowser, sleep } from './support.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const maintenance = (retryAfter) => (route) =>
  route.fulfill({
    status: 503,
    headers: { 'Retry-After': String(retryAfter), 'Content-Type': 'application/json' },
    body: JSON.stringify({ error: 'maintenance', message: 'Planned maintenance', retry_after: retryAfter }),
  });

test('a 503 keeps the answers on the device, is retried no sooner than Retry-After, and refuses Submit', async () => {
  const server = await Server.start('sqlite');
  // Without the service worker, so that the browser's routing sees every request.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const person = new Person(await context.newPage());
    const page = person.page;
    await page.goto(`${server.url}/p/demo/motor-claim`);
    await person.press('Start');
    await person.seesHeading('About you');
    await person.fill('Full name', 'Katherine Johnson');
    await person.seesSaved();

    const patches = [];
    page.on('request', (r) => r.method() === 'PATCH' && patches.push(Date.now()));
    await page.route('**/api/v1/sessions/*', maintenance(3));
    await person.fill('Email address', 'katherine@example.org');
    await person.field('Email address').blur();
    const kept = await person.seesKeptOnDevice();
    assert.match(kept, /saved when the service is back/);
    await sleep(2000);
    assert.equal(patches.length, 1, 'no retry before Retry-After (3 s)');

    await person.fill('Policy number', 'KJ191801');
    await person.press('Next');
    assert.match(await person.alertText(), /answers are safe/);
    await person.seesHeading('About you');

    await page.unroute('**/api/v1/sessions/*');
    await person.seesSaved(15000);
    assert.equal(await person.page.getByRole('alert').count(), 0, 'the alert goes once saved');
    const held = await server.session(person.token());
    assert.equal(held.answers.email, 'katherine@example.org');
    assert.equal(held.answers.policy_number, 'KJ191801');
  } finally {
    await context.close();
    await server.stop();
  }
});

test('a reload answered with 503 shows the maintenance page, not the kept copy', async () => {
  const server = await Server.start('sqlite');
  const context = await browser.newContext();
  try {
    const person = new Person(await context.newPage());
    const page = person.page;
    await page.goto(`${server.url}/p/demo/motor-claim`);
    await person.press('Start');
    await person.seesHeading('About you');
    await person.fill('Full name', 'Dorothy Vaughan');
    await person.seesSaved();
    await person.pageKeptWith('About you');

    await context.route('**/s/*', (route) =>
      route.fulfill({
        status: 503,
        headers: { 'Retry-After': '60', 'Content-Type': 'text/html; charset=utf-8' },
        body: '<!doctype html><title>Back in a moment</title><h1>Back in a moment</h1>',
      }),
    );
    const response = await page.reload();
    assert.ok(response.fromServiceWorker(), 'the service worker answered the reload');
    assert.equal(response.status(), 503);
    await person.seesHeading('Back in a moment');

    await context.unroute('**/s/*');
    await page.reload();
    await person.seesHeading('About you');
    await person.seesValue('Full name', 'Dorothy Vaughan');
    await eventually('no error in the page', async () => (await page.getByRole('alert').count()) === 0);
  } finally {
    await context.close();
    await server.stop();
  }
});
