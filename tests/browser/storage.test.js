// Storage that fails is told. When this browser cannot keep answers on the device — site data
// blocked, IndexedDB refused, a quota reached mid-way — the page says so plainly while the
// server cannot be reached, instead of promising that the answers are kept; and it still saves
// everything once the server is back.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, Person, Server, backends, eventually, launchBrowser } from './support.js';

// The save state's texts (docs/browser.md), by where this device keeps the answers.
const NOT_KEPT_OFFLINE =
  'No connection. Your answers are not saved yet and this browser cannot store them: keep this page open until the connection is back.';
const LOCAL_OFFLINE =
  'No connection. Your answers are kept on this device and will be saved when the connection is back, but the last ones may be lost if the browser crashes before then.';

/** IndexedDB cannot be opened (as in some private modes). */
const NO_INDEXEDDB = () => {
  IDBFactory.prototype.open = function open() {
    const request = new EventTarget();
    Object.defineProperty(request, 'error', { value: new DOMException('refused', 'UnknownError') });
    setTimeout(() => {
      request.onerror?.(new Event('error'));
      request.dispatchEvent(new Event('error'));
    }, 10);
    return request;
  };
};

/** localStorage (and sessionStorage) are full: every write throws. */
const NO_LOCALSTORAGE = () => {
  Storage.prototype.setItem = function setItem() {
    throw new DOMException('full', 'QuotaExceededError');
  };
};

/** Writes succeed until the page sets `window.storageFull`; then IndexedDB and localStorage refuse. */
const FILLS_UP_LATER = () => {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function guarded(...args) {
    if (window.storageFull) throw new DOMException('full', 'QuotaExceededError');
    return put.apply(this, args);
  };
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function guarded(...args) {
    if (window.storageFull) throw new DOMException('full', 'QuotaExceededError');
    return setItem.apply(this, args);
  };
};

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Starts the demo claim and types step 1's name while the server is up. */
async function startClaim(context, server) {
  const person = new Person(await context.newPage());
  await person.page.goto(`${server.url}/p/demo/motor-claim`);
  await person.press('Start');
  await person.seesHeading('About you');
  await person.fill('Full name', 'Grace Hopper');
  await person.seesSaved();
  return person;
}

/** The server is down; the person types and is told exactly `expected`. */
async function typeWhileDown(person, server, expected) {
  await server.kill();
  await person.fill('Email address', 'grace@example.org');
  await person.field('Email address').blur();
  await eventually(`the status "${expected}"`, async () => (await person.statusText()) === expected);
}

/** The server comes back: everything is saved, the page says so, the server holds it. */
async function savedOnceBack(person, server) {
  await server.restart();
  await person.seesSaved(30000);
  const held = await server.session(person.token());
  assert.equal(held.answers.full_name, 'Grace Hopper');
  assert.equal(held.answers.email, 'grace@example.org');
}

/** What the page's journal says it is (journal.js `mode`), as holdfast.js exposes it on the form. */
const journalMode = (person) => person.page.locator('#process-form').getAttribute('data-journal');

for (const backend of backends()) {
  test(`${backend}: with site data blocked (Chromium's own setting), the page says the answers are not kept`, async () => {
    const server = await Server.start(backend);
    // Chromium's "Don't allow sites to save data" (chrome://settings/content/siteData) is the
    // profile preference below: IndexedDB, localStorage, sessionStorage and the service worker
    // are all refused.
    const profile = await mkdtemp(join(tmpdir(), 'holdfast-blocked-'));
    await mkdir(join(profile, 'Default'));
    await writeFile(
      join(profile, 'Default', 'Preferences'),
      JSON.stringify({ profile: { default_content_setting_values: { cookies: 2 } } }),
    );
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const person = await startClaim(context, server);
      assert.equal(await journalMode(person), 'memory');
      await typeWhileDown(person, server, NOT_KEPT_OFFLINE);
      await person.press('Next');
      const alert = await person.alertText();
      assert.match(alert, /not saved yet/);
      assert.doesNotMatch(alert, /answers are safe/);
      await savedOnceBack(person, server);
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
      await server.stop();
    }
  });

  test(`${backend}: IndexedDB and localStorage both failing: the page says the answers are not kept`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext();
    await context.addInitScript(NO_INDEXEDDB);
    await context.addInitScript(NO_LOCALSTORAGE);
    try {
      const person = await startClaim(context, server);
      assert.equal(await journalMode(person), 'memory');
      await typeWhileDown(person, server, NOT_KEPT_OFFLINE);
      await savedOnceBack(person, server);
    } finally {
      await context.close();
      await server.stop();
    }
  });

  test(`${backend}: IndexedDB failing, localStorage working: kept, but not safe from a browser crash`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext();
    await context.addInitScript(NO_INDEXEDDB);
    try {
      const person = await startClaim(context, server);
      assert.equal(await journalMode(person), 'localstorage');
      await person.page.evaluate(() => navigator.serviceWorker.ready);
      await typeWhileDown(person, server, LOCAL_OFFLINE);
      // localStorage does survive a reload: the answer is still there.
      await person.page.reload();
      await person.seesValue('Email address', 'grace@example.org');
      await eventually('the localStorage status again', async () => (await person.statusText()) === LOCAL_OFFLINE);
      await savedOnceBack(person, server);
    } finally {
      await context.close();
      await server.stop();
    }
  });

  test(`${backend}: storage filling up mid-way is reported, not swallowed`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext();
    await context.addInitScript(FILLS_UP_LATER);
    try {
      const person = await startClaim(context, server);
      assert.equal(await journalMode(person), 'indexeddb');
      await person.page.evaluate(() => {
        window.storageFull = true;
      });
      await typeWhileDown(person, server, NOT_KEPT_OFFLINE);
      assert.equal(await journalMode(person), 'memory');
      await savedOnceBack(person, server);
    } finally {
      await context.close();
      await server.stop();
    }
  });
}
