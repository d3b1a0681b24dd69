// IndexedDB slow to open is waited for. A person types while the server is down, and the tab
// crashes (nothing mirrored to localStorage: the answers are in IndexedDB alone). On the next
// visit, the server is back but IndexedDB takes 5 s to open: the page does not say "Saved"
// until it has read what IndexedDB kept; then it shows those answers and sends them.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Person, Server, backends, eventually, launchBrowser } from './support.js';

/** IndexedDB opens, but its success is announced 5 s late. */
const SLOW_INDEXEDDB = () => {
  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function slowOpen(...args) {
    const request = open.apply(this, args);
    request.addEventListener(
      'success',
      (event) => {
        event.stopImmediatePropagation();
        setTimeout(() => request.dispatchEvent(new Event('success')), 5000);
      },
      { once: true },
    );
    return request;
  };
};

/** Notes what the email field showed each time the save state said "Saved". */
const NOTE_SAVED = () => {
  window.savedWith = [];
  document.addEventListener('DOMContentLoaded', () => {
    const status = document.getElementById('save-status');
    if (!status) return;
    new MutationObserver(() => {
      if (status.textContent.trim() === 'Saved') {
        window.savedWith.push(document.getElementById('f-email')?.value ?? null);
      }
    }).observe(status, { childList: true, characterData: true, subtree: true });
  });
};

/** Whether this origin's IndexedDB journal holds a record with `text` in it. */
const journalHolds = (page, text) =>
  page.evaluate(
    (wanted) =>
      new Promise((resolve) => {
        const request = indexedDB.open('holdfast', 1);
        request.onsuccess = () => {
          const all = request.result.transaction('journal').objectStore('journal').getAll();
          all.onsuccess = () => resolve(JSON.stringify(all.result).includes(wanted));
          all.onerror = () => resolve(false);
        };
        request.onerror = () => resolve(false);
      }),
    text,
  );

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const backend of backends()) {
  test(`${backend}: answers kept in a slow IndexedDB are shown and sent before "Saved"`, async () => {
    const server = await Server.start(backend);
    const context = await browser.newContext();
    try {
      // First visit: the server dies while the person types; the tab then crashes.
      const first = new Person(await context.newPage());
      await first.page.goto(`${server.url}/p/demo/motor-claim`);
      await first.press('Start');
      await first.seesHeading('About you');
      await first.fill('Full name', 'Dorothy Vaughan');
      await first.seesSaved();
      const link = first.page.url();
      await server.kill();
      await first.fill('Email address', 'dorothy@example.org');
      await first.fill('Phone number', '+1 757 555 0199');
      await first.seesKeptOnDevice();
      await eventually('the journal in IndexedDB', () => journalHolds(first.page, '+1 757 555 0199'));
      const crashed = new Promise((resolve) => first.page.once('crash', resolve));
      const cdp = await context.newCDPSession(first.page);
      cdp.send('Page.crash').catch(() => {}); // answered by no one: the page is gone
      await crashed;
      await first.page.close().catch(() => {});
      await server.restart();

      // Next visit, with IndexedDB slow to open.
      await context.addInitScript(SLOW_INDEXEDDB);
      await context.addInitScript(NOTE_SAVED);
      const person = new Person(await context.newPage());
      await person.page.goto(link);
      await person.seesHeading('About you');
      await person.seesValue('Full name', 'Dorothy Vaughan');
      await person.seesValue('Email address', 'dorothy@example.org');
      await person.seesValue('Phone number', '+1 757 555 0199');
      await person.seesSaved(30000);
      const savedWith = await person.page.evaluate(() => window.savedWith);
      assert.deepEqual(
        savedWith.slice(0, 1),
        ['dorothy@example.org'],
        `"Saved" was first shown with the email field holding ${JSON.stringify(savedWith[0])}`,
      );
      const held = await server.session(person.token());
      assert.equal(held.answers.email, 'dorothy@example.org');
      assert.equal(held.answers.phone, '+1 757 555 0199');
      assert.equal(await person.page.locator('#process-form').getAttribute('data-journal'), 'indexeddb');
    } finally {
      await context.close();
      await server.stop();
    }
  });
}
