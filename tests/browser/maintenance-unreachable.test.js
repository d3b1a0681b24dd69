// The maintenance page tells a server it cannot reach from one that is open again (issue
// "Never lose an answer, at the edges", point 12a). A person is on the maintenance page when
// the server becomes unreachable (the proxy in front of it closes every connection): the page's
// check finds no server — the service worker's kept copy of the form is no answer from it — so
// it does not say the service is back, and stays; nor when the server accepts the check and
// never answers. Once the server can be reached and the maintenance has ended, the page takes
// the person back to their form by itself.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Proxy } from './proxy.js';
import { Person, Server, backends, eventually, launchBrowser, sleep } from './support.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** The maintenance page checks at most every 30 s (a little before Retry-After is up). */
const CHECK_TIMEOUT_MS = 40000;

for (const backend of backends()) {
  test(`${backend}: a maintenance page that cannot reach the server does not say the service is back`, async () => {
    const server = await Server.start(backend);
    const proxy = await Proxy.start(server.url);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const person = new Person(page);
      await page.goto(`${proxy.url}/p/demo/motor-claim`);
      await person.press('Start');
      await person.seesHeading('About you');
      await person.fill('Full name', 'Annie Easley');
      await person.seesSaved();
      await person.pageKeptWith('About you');

      // Maintenance begins; the person reloads and is on the maintenance page.
      await server.operator('maintenance', 'begin', '--message', 'Upgrading the database', '--json');
      const response = await page.reload();
      assert.equal(response.status(), 503);
      await person.seesHeading('Down for maintenance');
      const status = page.locator('[data-maintenance-status]');
      let navigations = 0;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations += 1;
      });
      let checks = 0;
      const token = person.token();
      page.on('request', (request) => {
        if (request.resourceType() === 'fetch' && new URL(request.url()).pathname === `/s/${token}`) checks += 1;
      });

      // The server becomes unreachable. The page checks, finds no server, and stays.
      proxy.refuse();
      await eventually('the maintenance page to check', () => checks > 0, CHECK_TIMEOUT_MS);
      await sleep(3000);
      assert.equal(navigations, 0, 'the maintenance page reloaded: it took the unreachable server for an open one');
      await person.seesHeading('Down for maintenance');
      assert.doesNotMatch(await status.textContent(), /The service is back/);

      // The server is alive but does not answer: the same.
      proxy.clear();
      proxy.rule({ hang: true });
      const checked = checks;
      await eventually('the maintenance page to check again', () => checks > checked, CHECK_TIMEOUT_MS);
      await sleep(12000);
      assert.equal(navigations, 0, 'the maintenance page reloaded: it took the hung server for an open one');
      await person.seesHeading('Down for maintenance');
      assert.doesNotMatch(await status.textContent(), /The service is back/);

      // The server can be reached again and the maintenance ends: back to the form.
      proxy.clear();
      await server.operator('maintenance', 'end', '--json');
      await person.seesHeading('About you', CHECK_TIMEOUT_MS);
      await person.seesValue('Full name', 'Annie Easley');
      await person.seesSaved();
    } finally {
      await context.close();
      await proxy.stop();
      await server.stop();
    }
  });
}
