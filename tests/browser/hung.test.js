// A server that is alive but does not answer (issue "Never lose an answer, at the edges",
// point 9): the proxy accepts every request and never answers. A person opening their resume
// link in a new tab sees the form with the answers kept on the device within a few seconds
// (the service worker stops waiting for the network and shows its copy), and Next is refused
// with the alert within a few seconds, whether or not something is left to save. Once the
// server answers again, everything is saved and Next works.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Proxy } from './proxy.js';
import { Person, Server, backends, launchBrowser, sleep } from './support.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** How soon the person must see the form, or the refusal, while the server hangs. */
const PROMPTLY_MS = 6000;

/** Opens the demo claim through the proxy and fills in step 1 until it is saved and kept. */
async function startClaim(context, proxy) {
  const person = new Person(await context.newPage());
  await person.page.goto(`${proxy.url}/p/demo/motor-claim`);
  await person.press('Start');
  await person.seesHeading('About you');
  await person.fill('Full name', 'Grace Hopper');
  await person.fill('Email address', 'grace@example.org');
  await person.fill('Policy number', 'GH190612');
  await person.seesSaved();
  await person.pageKeptWith('About you');
  return person;
}

for (const backend of backends()) {
  test(`${backend}: while the server hangs, the resume link shows the kept answers and Next is refused within seconds`, async (t) => {
    const server = await Server.start(backend);
    const proxy = await Proxy.start(server.url);
    const context = await browser.newContext();
    try {
      const first = await startClaim(context, proxy);
      const token = first.token();

      // The server stops answering. The person corrects a field (kept on the device only)
      // and closes the tab.
      proxy.rule({ hang: true });
      await first.fill('Policy number', 'GH190699');
      await first.field('Policy number').blur();
      await sleep(300);
      await first.page.close();

      // They open the resume link in a new tab: the form, with every answer, within seconds.
      const person = new Person(await context.newPage());
      const opened = Date.now();
      person.page.goto(`${proxy.url}/s/${token}`).catch(() => {});
      await person.seesHeading('About you', PROMPTLY_MS);
      await person.seesValue('Full name', 'Grace Hopper');
      await person.seesValue('Email address', 'grace@example.org');
      await person.seesValue('Policy number', 'GH190699');
      const shownAfter = Date.now() - opened;
      t.diagnostic(`the form was shown ${(shownAfter / 1000).toFixed(1)} s after opening the link`);
      assert.ok(shownAfter < PROMPTLY_MS, `the form took ${shownAfter} ms`);

      // Next is refused with the alert within seconds; the form stays as it is.
      const pressed = Date.now();
      await person.press('Next');
      assert.match(await person.alertText(), /cannot change steps right now/);
      const refusedAfter = Date.now() - pressed;
      t.diagnostic(`Next was refused ${(refusedAfter / 1000).toFixed(1)} s after the press`);
      assert.ok(refusedAfter < PROMPTLY_MS, `the refusal took ${refusedAfter} ms`);
      await person.seesHeading('About you');
      assert.equal(await person.value('Policy number'), 'GH190699');

      // The server answers again: the correction is saved by itself, and Next works.
      proxy.clear();
      await person.seesSaved(30000);
      assert.equal((await server.session(token)).answers.policy_number, 'GH190699');
      await person.press('Next');
      await person.seesHeading('The incident');
    } finally {
      await context.close();
      await proxy.stop();
      await server.stop();
    }
  });

  test(`${backend}: with nothing left to save, Next on a page whose server hangs is refused within seconds`, async (t) => {
    const server = await Server.start(backend);
    const proxy = await Proxy.start(server.url);
    const context = await browser.newContext();
    try {
      const person = await startClaim(context, proxy);

      proxy.rule({ hang: true });
      const pressed = Date.now();
      await person.press('Next');
      assert.match(await person.alertText(), /cannot change steps right now/);
      const refusedAfter = Date.now() - pressed;
      t.diagnostic(`Next was refused ${(refusedAfter / 1000).toFixed(1)} s after the press`);
      assert.ok(refusedAfter < PROMPTLY_MS, `the refusal took ${refusedAfter} ms`);
      await person.seesHeading('About you');

      proxy.clear();
      await person.press('Next');
      await person.seesHeading('The incident');
    } finally {
      await context.close();
      await proxy.stop();
      await server.stop();
    }
  });
}
