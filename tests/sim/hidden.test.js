// Minimal histories the model test (model.test.js) found, replayed step by step. A tab hidden
// within the half second after typing sends its change blind (`leave()`: keepalive, its answer
// is never read); nothing sends it again while the page lives, so:
// - if the server was down then, the change stays unsent when the page is shown again and the
//   server is back ("Saving…" for as long as the person does not type or press a button);
// - if the server applied it, the page still says "Saving…", and every other tab refuses Submit
//   ("Another window of this form is still saving answers…").
// Both are `todo` until sync.js resends what `leave()` sent blind (see docs/browser.md).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Server, eventually } from '../browser/server.js';
import { Device } from './harness.js';

const FIELDS = ['full_name', 'phone', 'account_holder'];
/** Longer than the page's 15 s refresh, the only other thing that could save it. */
const WAIT_MS = 20000;

async function withOneTab(story) {
  const server = await Server.start('sqlite');
  const device = new Device(server.url, { fields: FIELDS });
  try {
    const created = await fetch(`${server.url}/api/v1/orgs/demo/processes/motor-claim/sessions`, { method: 'POST' });
    const { token } = await created.json();
    const tab = await device.open(token);
    await eventually('the tab to say Saved', () => tab.autosave.state() === 'saved');
    await story({ server, device, tab, token });
  } finally {
    for (const tab of [...device.tabs]) tab.crash();
    await server.stop();
  }
}

test('histories the model found, replayed', { concurrency: true }, async (t) => {
  await Promise.all([
    t.test(
      'a change a tab sent blind while the server was down is saved once the page is shown again',
      { todo: 'sync.js never resends what leave() sent blind (model.test.js SEED=22, SEED=24)' },
      () =>
        withOneTab(async ({ server, tab, token }) => {
          tab.type('full_name', 'Ada Lovelace');
          await server.kill();
          tab.hide();
          await server.restart();
          tab.focus();
          await eventually('the server to hold the change', async () => (await server.session(token)).answers.full_name === 'Ada Lovelace', WAIT_MS);
          await eventually('the tab to say Saved', () => tab.autosave.state() === 'saved', WAIT_MS);
        }),
    ),
    t.test(
      'a tab hidden right after typing says Saved once the server holds its change',
      { todo: 'sync.js never reads the answer to what leave() sent blind' },
      () =>
        withOneTab(async ({ server, tab, token }) => {
          tab.type('full_name', 'Ada Lovelace');
          tab.hide();
          await eventually('the server to hold the change', async () => (await server.session(token)).answers.full_name === 'Ada Lovelace');
          tab.focus();
          await eventually('the tab to say Saved', () => tab.autosave.state() === 'saved', WAIT_MS);
          assert.equal(tab.autosave.unsaved(), false);
        }),
    ),
  ]);
});
