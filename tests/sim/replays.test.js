// Short histories, replayed step by step, of bugs that were in sync.js; each stays as a test.
//
// 1. Found by model.test.js (SEED=22, SEED=24 on SQLite): a tab hidden within the half second
//    after typing sends its change blind (`leave()`: keepalive, its answer is never read), and
//    nothing sends it again while the page lives. If the server was down then, the change stays
//    unsent when the page is shown again and the server is back ("Saving…" for as long as the
//    person does not type or press a button). If the server applied it, the page still says
//    "Saving…", and every other tab refuses Submit ("Another window of this form is still
//    saving answers…").
// 2. Found reading sync.js while building the model: when an open tab takes over the record of
//    a gone tab, a change the gone tab held at a field (a conflict waiting for the person) is
//    dropped if the open tab holds one at the same field, even when the dropped one is the
//    value the person typed last. It is gone from the device; the person is never shown it.
// 3. Found building the load simulator (return.js), in maintenance.js:
//    when the availability long poll says the service is open, the page stops long-polling and
//    checks its own address; if that check is refused (503: the maintenance began again before
//    it arrived, or another node is still closed), the page waits for its timed check only
//    (Retry-After × 0.75–0.95: 22–28 s), and learned nothing of the next end. Now it backs off
//    and long-polls again, as sync.js does.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Server, eventually, sleep } from '../browser/server.js';
import { Device, nodeFetch } from './harness.js';

const FIELDS = ['full_name', 'phone', 'account_holder'];
/** Longer than the page's 15 s refresh, the only other thing that could save it. */
const WAIT_MS = 20000;

/** A session open in `count` tabs of one device, each saying "Saved". */
async function withTabs(count, story) {
  const server = await Server.start('sqlite');
  const device = new Device(server.url, { fields: FIELDS });
  try {
    const created = await fetch(`${server.url}/api/v1/orgs/demo/processes/motor-claim/sessions`, { method: 'POST' });
    const { token } = await created.json();
    const tabs = [];
    for (let i = 0; i < count; i += 1) tabs.push(await device.open(token));
    await eventually('the tabs to say Saved', () => tabs.every((t) => t.autosave.state() === 'saved'));
    await story({ server, device, tabs, tab: tabs[0], token });
  } finally {
    for (const tab of [...device.tabs]) tab.crash();
    await server.stop();
  }
}

test('bugs that were in sync.js, replayed step by step', { concurrency: true }, async (t) => {
  await Promise.all([
    t.test(
      'a change a tab sent blind while the server was down is saved once the page is shown again',
      () =>
        withTabs(1, async ({ server, tab, token }) => {
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
      () =>
        withTabs(1, async ({ server, tab, token }) => {
          tab.type('full_name', 'Ada Lovelace');
          tab.hide();
          await eventually('the server to hold the change', async () => (await server.session(token)).answers.full_name === 'Ada Lovelace');
          tab.focus();
          await eventually('the tab to say Saved', () => tab.autosave.state() === 'saved', WAIT_MS);
          assert.equal(tab.autosave.unsaved(), false);
        }),
    ),
    t.test(
      'a conflict held by a tab that crashed is not dropped by the tab that takes over its record',
      () =>
        withTabs(2, async ({ server, device, tabs: [a, b], token }) => {
          // Another device changes the name; neither tab has seen it yet.
          const other = await fetch(`${server.url}/api/v1/sessions/${token}`, {
            method: 'PATCH',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ client: 'another-device', seq: 1, base: 0, answers: { full_name: 'Their name' } }),
          });
          assert.equal(other.status, 200);
          b.type('full_name', 'My first try');
          b.blur();
          await eventually('a conflict held in tab B', () => b.held().full_name);
          a.type('full_name', 'My final answer');
          a.blur();
          await eventually('a conflict held in tab A', () => a.held().full_name);
          a.crash();
          // B takes over A's record within its 2 s sweep.
          await eventually("A's record taken over", () => device.journal.records(token).length === 1);
          await sleep(100);
          const onDevice = JSON.stringify([...device.journal.store.values(), b.describe()]);
          assert.ok(onDevice.includes('My final answer'), `the last answer typed is gone from the device: ${onDevice}`);
        }),
    ),
  ]);
});

test('bugs in maintenance.js, replayed step by step', async (t) => {
  await t.test(
    'a maintenance page whose check is refused after the end learns of the next end at once',
    async () => {
      const server = await Server.start('sqlite');
      // The page's check of its own address takes 1.5 s on this network.
      const http = async (url, init) => {
        if (String(url).includes('/s/')) await sleep(1500);
        return nodeFetch(url, init);
      };
      const device = new Device(server.url, { fields: FIELDS, http });
      try {
        const created = await fetch(`${server.url}/api/v1/orgs/demo/processes/motor-claim/sessions`, { method: 'POST' });
        const { token } = await created.json();
        await server.operator('maintenance', 'begin', '--minutes', '10', '--json');
        const tab = await device.open(token);
        assert.equal(tab.state, 'maintenance');
        await sleep(500);
        await server.operator('maintenance', 'end', '--json');
        // Begun again while the page's check is on its way: the check meets a 503.
        await sleep(300);
        await server.operator('maintenance', 'begin', '--minutes', '10', '--json');
        await sleep(2000);
        assert.equal(tab.state, 'maintenance');
        await server.operator('maintenance', 'end', '--json');
        // The long poll would bring it back within the spread and the slow check; the timed
        // check only after 22-28 s.
        await eventually('the form to load', () => tab.state === 'open', 8000);
      } finally {
        for (const tab of [...device.tabs]) tab.crash();
        await server.stop();
      }
    },
  );
});
