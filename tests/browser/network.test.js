// What a real network does between the page and the server, played by a proxy (proxy.js):
// a proxy refusing the page's saves (403), and saves that overtake each other.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Proxy } from './proxy.js';
import { Person, Server, backends, eventually, launchBrowser, sleep } from './support.js';

const SAVES = /^\/api\/v1\/sessions\/[^/]+$/;

/** The demo claim opened through `proxy`, with the name saved. */
async function startClaim(context, proxy) {
  const person = new Person(await context.newPage());
  await person.page.goto(`${proxy.url}/p/demo/motor-claim`);
  await person.press('Start');
  await person.seesHeading('About you');
  await person.fill('Full name', 'Mary');
  await person.seesSaved();
  return person;
}

for (const backend of backends()) {
  test(`${backend}: saves a proxy refuses (403) are kept, said to be unsaved, and sent later`, async () => {
    const server = await Server.start(backend);
    const proxy = await Proxy.start(server.url);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const person = await startClaim(context, proxy);
      const refusing = proxy.rule({ method: 'PATCH', path: SAVES, status: 403, body: '<h1>Forbidden</h1>' });
      await person.fill('Email address', 'mary@example.org');
      await person.field('Email address').blur();
      await eventually('the status to say the answers were refused', async () =>
        /^Not saved: the server refused your answers/.test(await person.statusText()),
      );
      assert.ok(refusing.hits >= 1);
      await sleep(1500);
      assert.doesNotMatch(await person.statusText(), /^Saved$/, 'never "Saved" while refused');
      assert.equal((await server.session(person.token())).answers.email, undefined);

      // A reload while refused still shows it: it is in the journal.
      await person.page.reload();
      await person.seesHeading('About you');
      await person.seesValue('Email address', 'mary@example.org');

      // The proxy lets saves through again; pressing Next sends it at once.
      refusing.remove();
      await person.fill('Policy number', 'AB123456');
      await person.press('Next');
      await person.seesHeading('The incident');
      const held = await server.session(person.token());
      assert.equal(held.answers.email, 'mary@example.org');
      assert.equal(held.answers.policy_number, 'AB123456');
    } finally {
      await browser.close();
      await proxy.stop();
      await server.stop();
    }
  });

  test(`${backend}: saves sent at once when a page is hidden land in any order; the last text stays`, async () => {
    const server = await Server.start(backend);
    const proxy = await Proxy.start(server.url);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const person = await startClaim(context, proxy);
      const token = person.token();
      let overtaken = 0;
      for (let round = 0; round < 8; round += 1) {
        // The first save of the round is refused (503), so that two are queued...
        const down = proxy.rule({ method: 'PATCH', path: SAVES, status: 503, headers: { 'Retry-After': '30' } });
        await person.fill('Full name', `Mary ${round}`);
        await person.field('Full name').blur();
        await eventually('the first save to be refused', () => down.hits > 0);
        await person.fill('Full name', `Mary ${round} Jackson`);
        // ...and when the page is hidden they are sent together, through up to 300 ms of
        // jitter each: the later one often arrives first.
        down.remove();
        proxy.jitter(0, 300);
        const before = proxy.requests.length;
        await person.page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide')));
        await eventually('the round to be saved', async () =>
          (await server.session(token)).answers.full_name === `Mary ${round} Jackson`,
        );
        await sleep(700);
        const patches = proxy.requests.slice(before).filter((r) => r.startsWith('PATCH')).length;
        if (patches >= 2) overtaken += 1;
        assert.equal((await server.session(token)).answers.full_name, `Mary ${round} Jackson`, `round ${round}`);
        proxy.clear();
        await person.seesSaved();
      }
      assert.ok(overtaken > 0, 'some rounds sent their saves together');
    } finally {
      await browser.close();
      await proxy.stop();
      await server.stop();
    }
  });

  test(`${backend}: the maintenance page hears of the end from the server, not from its timer`, async () => {
    const server = await Server.start(backend);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const person = new Person(await context.newPage());
      await person.page.goto(`${server.url}/p/demo/motor-claim`);
      await person.press('Start');
      await person.seesHeading('About you');
      await person.fill('Full name', 'Mary');
      await person.seesSaved();
      const asked = [];
      context.on('request', (r) => {
        if (r.url().includes('/api/v1/availability')) asked.push(r.url());
      });
      await server.operator('maintenance', 'begin', '--minutes', '10', '--json');
      await person.page.reload();
      await eventually('the maintenance page', async () => !(await person.page.locator('#process-form').count()));
      // Its timed check would come 22-28 s after the Retry-After of 30 s; the end comes sooner.
      await sleep(1500);
      await server.operator('maintenance', 'end', '--json');
      await person.seesHeading('About you', 20000);
      await person.seesValue('Full name', 'Mary');
      assert.ok(asked.length > 0, 'the page waited for the end with the server (the long poll)');
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}
