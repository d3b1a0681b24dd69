// The promise, checked against random histories: one person fills in a claim in two or three
// tabs of one browser while the connection drops, tabs are hidden, reloaded, closed and crash,
// the server is killed and comes back, and the operator takes the service down for maintenance.
// Whatever happens, once the dust settles the server holds, for every field, the last value the
// person typed (in any tab), and a maintenance window lost no change.
//
// The person at a conflict ("changed in another window… which one do you want to keep?")
// keeps their value if it is the last one they typed for that field, else takes the other;
// they notice conflicts now and then between steps, and always at the end.
//
// Each history comes from a seed: `SEED=n` replays one, `SEEDS=n` runs seeds 1…n (default 10),
// on SQLite and, when HOLDFAST_TEST_POSTGRES_URL is set, on PostgreSQL. A failure prints the
// seed, the steps taken and what every tab and the journal held.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Server, backends, sleep } from '../browser/server.js';
import { Device } from './harness.js';

/** Text fields of the demo claim that accept any value (examples/motor-claim.yaml). */
const FIELDS = ['full_name', 'phone', 'account_holder'];
/** How long the end waits for every tab to settle (a maintenance Retry-After is 30 s). */
const SETTLE_MS = 90000;
/** How many histories run at once (each has a server of its own). */
const PARALLEL = Number(process.env.SIM_PARALLEL ?? 5);

function seeds() {
  if (process.env.SEED) return [Number(process.env.SEED)];
  const count = Number(process.env.SEEDS ?? 10);
  return Array.from({ length: count }, (_, i) => i + 1);
}

/** mulberry32: a small seeded PRNG, so that a seed replays the same history. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

/** One random history of one session; throws (with the story) if an answer was lost. */
async function history(backend, seed) {
  const random = prng(seed);
  const started = Date.now();
  const trace = [];
  const log = (line) => trace.push(`${String(Date.now() - started).padStart(6)} ms  ${line}`);
  const server = await Server.start(backend);
  let device;
  try {
    const created = await fetch(`${server.url}/api/v1/orgs/demo/processes/motor-claim/sessions`, { method: 'POST' });
    assert.ok(created.ok, `creating the session: ${created.status}`);
    const { token } = await created.json();
    device = new Device(server.url, { fields: FIELDS, log });

    /** The last value typed into each field, in any tab. */
    const typed = new Map();
    let counter = 0;
    const world = { down: false, maintenance: false, windows: [] };

    const tabs = () => [...device.tabs];
    const openTabs = () => device.ready();
    const resolveConflicts = () => {
      for (const tab of openTabs()) {
        for (const [field, held] of Object.entries(tab.held())) {
          if (held.kind !== 'conflict') continue;
          const keep = typed.get(field) === held.yours;
          log(`${tab.name}: conflict at ${field}: mine ${JSON.stringify(held.yours)}, theirs ${JSON.stringify(held.theirs)}: ${keep ? 'Keep mine' : 'Use the other answer'}`);
          tab.choose(field, keep);
        }
      }
    };

    const tabCount = random.int(2, 3);
    for (let i = 0; i < tabCount; i += 1) await device.open(token);

    const steps = {
      type: async () => {
        const tab = openTabs().length ? random.pick(openTabs()) : null;
        if (!tab) return;
        const field = random.pick(FIELDS);
        counter += 1;
        const value = field === 'phone' ? `0${seed}${String(counter).padStart(4, '0')}` : `${field} ${seed}.${counter}`;
        log(`${tab.name}: types ${JSON.stringify(value)} into ${field}`);
        tab.type(field, value);
        typed.set(field, value);
        if (random.chance(0.4)) {
          log(`${tab.name}: blur`);
          tab.blur();
        }
      },
      offline: async () => device.goOffline(),
      online: async () => device.goOnline(),
      hide: async () => {
        const tab = openTabs().length ? random.pick(openTabs()) : null;
        if (!tab) return;
        log(`${tab.name}: hidden`);
        tab.hide();
      },
      reload: async () => {
        const tab = random.pick(tabs());
        log(`${tab.name}: reload`);
        await tab.reload();
      },
      close: async () => {
        const tab = random.pick(tabs());
        if (random.chance(0.5)) tab.close();
        else tab.crash();
        await device.open(token);
      },
      kill: async () => {
        log('server killed (SIGKILL)');
        world.down = true;
        await server.kill();
      },
      restart: async () => {
        log('server restarting');
        await server.restart();
        world.down = false;
        log('server up');
      },
      begin: async () => {
        const begun = JSON.parse(await server.operator('maintenance', 'begin', '--minutes', '5', '--json'));
        world.maintenance = true;
        world.windows.push(begun.downtime.window);
        log(`maintenance begun (${begun.downtime.window}, drained: ${begun.drained})`);
      },
      end: async () => {
        await server.operator('maintenance', 'end', '--json');
        world.maintenance = false;
        log('maintenance ended');
      },
    };
    /** The steps possible now, with their weights. */
    const choices = () => {
      const list = [
        ['type', 12],
        ['hide', 1],
        ['reload', 1],
        ['close', 1],
        [device.online ? 'offline' : 'online', device.online ? 1 : 3],
      ];
      if (world.down) list.push(['restart', 4]);
      else {
        list.push(['kill', 1]);
        list.push(world.maintenance ? ['end', 4] : ['begin', 1]);
      }
      return list;
    };

    const count = random.int(20, 60);
    log(`seed ${seed}: ${count} steps, ${tabCount} tabs, ${backend}`);
    for (let i = 0; i < count; i += 1) {
      const list = choices();
      let roll = random.next() * list.reduce((sum, [, w]) => sum + w, 0);
      const [name] = list.find(([, w]) => (roll -= w) < 0) ?? list[0];
      await steps[name]();
      // The person does not always notice a conflict at once: tabs may close, reload or
      // take over other tabs' records while one is held.
      if (random.chance(0.3)) resolveConflicts();
      await sleep(random.int(0, 600));
    }

    // The dust settles: server up, maintenance over, online; a fresh tab takes over every gone
    // tab's record.
    log('--- settling');
    if (world.down) await steps.restart();
    if (world.maintenance) await steps.end();
    device.goOnline();
    await device.open(token);
    // The person looks at every tab (a hidden one would otherwise wait out a Retry-After).
    for (const tab of openTabs()) tab.focus();
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      resolveConflicts();
      const all = tabs();
      const records = device.journal.records(token).filter((r) => r.batches.length || Object.keys(r.pending ?? {}).length || Object.keys(r.held ?? {}).length);
      const settled =
        all.every((t) => t.state === 'open' && t.autosave.state() === 'saved' && !t.autosave.unsaved()) &&
        records.length === 0;
      if (settled) break;
      for (const tab of openTabs()) if (!tab.visible) tab.focus();
      if (Date.now() > deadline) {
        throw new Error(`the tabs did not settle within ${SETTLE_MS / 1000} s`);
      }
      await sleep(100);
    }
    log('settled');

    const held = await server.session(token);
    for (const field of FIELDS) {
      assert.equal(held.answers[field], typed.get(field), `the server's ${field} is not the last value typed`);
    }
    for (const window of world.windows) {
      const report = JSON.parse(await server.operator('maintenance', 'report', window, '--json'));
      assert.equal(report.changes_lost, 0, `maintenance ${window}: ${JSON.stringify(report)}`);
    }
    if (process.env.SIM_TRACE) console.error(trace.join('\n'));
  } catch (error) {
    const story = [
      `SEED=${seed} (${backend}) failed: ${error.message}`,
      ...trace,
      'tabs:',
      ...(device ? [...device.tabs].map((t) => JSON.stringify(t.describe())) : []),
      'journal:',
      ...(device ? [...device.journal.store.values()].map((e) => JSON.stringify(e)) : []),
      'server log (tail):',
      server.log.split('\n').slice(-20).join('\n'),
    ].join('\n');
    error.message = story;
    throw error;
  } finally {
    for (const tab of device ? [...device.tabs] : []) tab.crash();
    await server.stop();
  }
}

test('the server ends with the last value typed, whatever happens in between', { concurrency: PARALLEL }, async (t) => {
  const runs = [];
  for (const backend of backends()) {
    for (const seed of seeds()) {
      runs.push(t.test(`${backend}: seed ${seed}`, () => history(backend, seed)));
    }
  }
  await Promise.all(runs);
});
