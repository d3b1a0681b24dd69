// Asset URLs carry the version of the assets' content (issue "Never lose an answer, at the
// edges", point 10), so that after a deploy no page runs old scripts with new HTML or the other
// way round: a step page's stylesheet, its script and every module the script imports come from
// one version, are cached for good (immutable), keep their URLs across restarts of the same
// build, and are kept by the service worker, which drops versions no kept page uses any more.
// Another version's URL is not served: a page never mixes versions.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Person, Server, backends, eventually, launchBrowser } from './support.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Every module and stylesheet a form page loads. */
const FORM_PAGE_ASSETS = ['form.js', 'holdfast.css', 'holdfast.js', 'journal.js', 'resume.js', 'status.js', 'sync.js'];
const YEAR_S = 365 * 24 * 3600;

/**
 * Opens a new claim's first step in a new page and returns the assets it loaded from the
 * server: {name: {version, path, cacheControl, status}}.
 */
async function openStepOne(context, server) {
  const page = await context.newPage();
  const person = new Person(page);
  const loaded = {};
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    const [, version, name] = path.match(/^\/assets\/(?:([^/]+)\/)?([^/]+)$/) ?? [];
    if (!name) return;
    loaded[name] = { version, path, cacheControl: response.headers()['cache-control'], status: response.status() };
  });
  await page.goto(`${server.url}/p/demo/motor-claim`);
  await person.press('Start');
  await person.seesHeading('About you');
  await person.fill('Full name', 'Mary Jackson');
  await person.seesSaved();
  return { person, loaded };
}

for (const backend of backends()) {
  test(`${backend}: a page's stylesheet, script and the script's imports carry one content version and are cached for good`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext();
    const again = await browser.newContext();
    try {
      const { person, loaded } = await openStepOne(context, server);
      assert.deepEqual(Object.keys(loaded).sort(), FORM_PAGE_ASSETS);
      const version = loaded['holdfast.js'].version;
      assert.match(version ?? '', /^[0-9a-f]{16}$/, JSON.stringify(loaded['holdfast.js']));
      for (const [name, asset] of Object.entries(loaded)) {
        assert.equal(asset.version, version, `${name} is of another version: ${asset.path}`);
        assert.equal(asset.status, 200, name);
        assert.match(asset.cacheControl ?? '', /\bimmutable\b/, `${name}: ${asset.cacheControl}`);
        const maxAge = Number(/max-age=(\d+)/.exec(asset.cacheControl)?.[1]);
        assert.ok(maxAge >= YEAR_S, `${name}: ${asset.cacheControl}`);
      }

      // The service worker keeps what the page loads, of this version.
      await person.pageKeptWith('About you');
      await eventually('the service worker to keep every asset of the page', () =>
        person.page.evaluate(
          async (paths) => (await Promise.all(paths.map((p) => caches.match(p)))).every(Boolean),
          Object.values(loaded).map((a) => a.path),
        ),
      );

      // It drops a version no kept page uses, at the latest when it next keeps a page.
      await person.page.evaluate(async () => {
        const old = await caches.open('holdfast-assets-00000000000000aa');
        await old.put('/assets/00000000000000aa/holdfast.js', new Response('// old'));
      });
      await person.page.reload();
      await person.seesHeading('About you');
      await eventually('the old version to be dropped', () =>
        person.page.evaluate(async () => !(await caches.keys()).includes('holdfast-assets-00000000000000aa')),
      );

      // Another version is not served (a page of it would mix versions): 404, not kept.
      const other = await fetch(`${server.url}/assets/00000000000000aa/holdfast.js`);
      assert.equal(other.status, 404);
      assert.equal(other.headers.get('cache-control'), 'no-store');

      // The same build started again gives the same URLs.
      await server.kill();
      await server.restart();
      const { loaded: afterRestart } = await openStepOne(again, server);
      assert.deepEqual(
        Object.fromEntries(Object.entries(afterRestart).map(([name, a]) => [name, a.path])),
        Object.fromEntries(Object.entries(loaded).map(([name, a]) => [name, a.path])),
      );
    } finally {
      await again.close();
      await context.close();
      await server.stop();
    }
  });
}
