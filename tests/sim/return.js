#!/usr/bin/env node
// The return after maintenance: thousands of open forms, each a browser of its own, come back
// to "Saved" once `holdfast maintenance end` has returned. A benchmark (figures in
// docs/benchmarks.md) and, run small, a check of counts (return.test.js).
//
//   node tests/sim/return.js --forms 1000 [--server-binary target/release/holdfast]
//        [--database postgres://postgres@127.0.0.1:5432/postgres] [--typing-seconds 10]
//        [--timeout 60] [--json]
//
// Every form is one person: a `Device` of harness.js with one `Tab`, running the real sync.js
// and, on the maintenance page, the real maintenance.js. About 60 % of the forms are visible,
// 25 % hidden (the person switched away during the maintenance: the page sent what it had with
// keepalive and does no 15 s refresh), 15 % on the maintenance page (the person reloaded during
// the maintenance; what they had typed waits in the device's journal). Each form types a change
// before the maintenance and one to three during it, so that each has something unsent when it
// ends. Then, from the moment `holdfast maintenance end` returned: the time until 50, 99 and
// 100 % of the forms say 'saved' (a maintenance-page form: reloaded into the form, and that
// says 'saved'), the error answers the pages saw, the CPU of the server and of this process,
// and finally the answers lost (each session's answers on the server against each form's last
// typed values).
//
// With --database, a fresh database is made on that PostgreSQL server for the run and dropped
// after. The server is `holdfast serve --demo` on a temporary data directory.

import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import { ROOT, Server, sleep } from '../browser/server.js';
import { Device, httpFetch, httpStats, nodeFetch } from './harness.js';

/** Text fields of the demo claim that accept any value (examples/motor-claim.yaml). */
const FIELDS = ['full_name', 'phone', 'account_holder'];
const KINDS = ['visible', 'hidden', 'maintenance page'];
/** Requests at once while setting up and checking (not during the return: that is the pages' own). */
const SETUP_CONCURRENCY = 64;
/** Sockets a form may hold at once (its long poll and one request), and this process's own. */
const FILES_PER_FORM = 2;
const FILES_SPARE = 256;

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/** The soft and hard open-file limits of a process (`self` or a pid), from /proc. */
export function openFileLimit(pid = 'self') {
  const text = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  const read = (v) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: read(match[1]), hard: read(match[2]) };
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: the fields counted from after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds of every PostgreSQL process on this machine (they share its cores). */
function postgresCpuSeconds() {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuSeconds(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

/** Runs `work(item)` for every item, `limit` at a time. */
async function eachLimited(items, limit, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The time by which `share` of the sorted times had come, in ms (null if they have not). */
function quantile(sorted, count, share) {
  const needed = Math.max(1, Math.ceil(count * share));
  return sorted.length >= needed ? sorted[needed - 1] : null;
}

/**
 * A device that notes every answer its pages get: an error is any 4xx or 5xx but a 503 to a
 * request sent before the maintenance ended, a request that failed (no connection) or got no
 * answer in time.
 */
class CountingDevice extends Device {
  constructor(base, options, tally) {
    super(base, options);
    this.tally = tally;
  }

  async fetch(tab, input, init = {}) {
    const { tally } = this;
    const sent = performance.now();
    const what = `${init.method ?? 'GET'} ${new URL(String(input), this.base).pathname.replace(/[^/]{20,}/, '{token}')}`;
    try {
      const response = await super.fetch(tab, input, init);
      tally.answer(what, response.status, sent);
      tally.trace?.push([what, sent, performance.now(), response.status]);
      return response;
    } catch (error) {
      tally.failure(what, error, sent);
      throw error;
    }
  }
}

class Tally {
  constructor() {
    /** When `maintenance end` returned (performance.now()), once it has. */
    this.ended = Infinity;
    this.requests = 0;
    this.afterEnd = 0;
    this.expected503 = 0;
    this.errors = 0;
    this.examples = new Map();
  }

  answer(what, status, sent) {
    this.requests += 1;
    if (sent >= this.ended) this.afterEnd += 1;
    if (status < 400) return;
    if (status === 503 && sent < this.ended) {
      this.expected503 += 1;
      return;
    }
    this.error(`${what}: ${status}`);
  }

  failure(what, error, sent) {
    this.requests += 1;
    if (sent >= this.ended) this.afterEnd += 1;
    const reason = error?.name === 'AbortError' ? 'no answer in time' : `${error?.cause?.code ?? error?.message ?? error}`;
    this.error(`${what}: ${reason}`);
  }

  error(kind) {
    this.errors += 1;
    this.examples.set(kind, (this.examples.get(kind) ?? 0) + 1);
  }
}

/** mulberry32, so that a run's forms, mix and typing come from its seed. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (l) => l[Math.floor(next() * l.length)] };
}

/** One form: one person, one browser, one tab (the tab after a reload, for the maintenance page). */
class Form {
  constructor(index, kind, token, device) {
    this.index = index;
    this.kind = kind;
    this.token = token;
    this.device = device;
    this.tab = null;
    /** The last value typed into each field. */
    this.typed = {};
    this.changes = 0;
    /** ms after the end when it was first back to 'saved'. */
    this.savedAt = null;
  }

  type(field) {
    this.changes += 1;
    const value = field === 'phone' ? `0${this.index}${String(this.changes).padStart(3, '0')}` : `${field} ${this.index}.${this.changes}`;
    this.tab.type(field, value);
    this.typed[field] = value;
  }

  /** Back to 'saved': the form is showing, holds nothing unsent, and no record waits in the journal. */
  saved() {
    const tab = [...this.device.tabs].find((t) => t.state === 'open');
    if (!tab || tab.autosave.state() !== 'saved' || tab.autosave.unsaved()) return false;
    return this.device.journal.records(this.token).every((r) => !r.batches.length && !Object.keys(r.pending ?? {}).length);
  }
}

/**
 * Runs the whole story once and returns what was measured. Options: forms, binary, postgres
 * (an admin URL: a fresh database is made there), typingSeconds, timeoutSeconds, seed,
 * log (progress lines).
 */
export async function run({
  forms: count = 1000,
  binary,
  postgres,
  typingSeconds = 10,
  timeoutSeconds = 60,
  seed = 1,
  client = 'http',
  log = () => {},
} = {}) {
  const random = prng(seed);
  const limits = { client: openFileLimit(), needed: count * FILES_PER_FORM + FILES_SPARE };
  if (limits.client.soft < limits.needed) {
    const raise = Math.min(limits.needed, limits.client.hard);
    throw new Error(
      `this process may open ${limits.client.soft} files (hard limit ${limits.client.hard}); ${count} forms need about ${limits.needed}` +
        ` (a socket for each form's long poll and one for its request, on this side and on the server's).\n` +
        (limits.client.hard >= limits.needed
          ? `Raise it in the shell that runs this, which the server inherits: ulimit -n ${raise}`
          : `The hard limit is below that too: as root, ulimit -Hn ${limits.needed} && ulimit -n ${limits.needed}, or raise nofile in /etc/security/limits.conf (LimitNOFILE= for a systemd unit)`),
    );
  }

  const backend = postgres ? 'postgres' : 'sqlite';
  const server = await Server.start(backend, { binary, postgres });
  const tally = new Tally();
  const all = [];
  try {
    limits.server = openFileLimit(server.child.pid);
    log(`server ${server.bin} on ${backend}, pid ${server.child.pid}, open files ${limits.server.soft}`);

    // The forms: sessions of the demo claim, each opened in a browser of its own.
    const kinds = Array.from({ length: count }, (_, i) => {
      const r = (i + 0.5) / count;
      return r < 0.6 ? 'visible' : r < 0.85 ? 'hidden' : 'maintenance page';
    });
    const setupStart = performance.now();
    await eachLimited([...kinds.keys()], SETUP_CONCURRENCY, async (i) => {
      const created = await fetch(`${server.url}/api/v1/orgs/demo/processes/motor-claim/sessions`, { method: 'POST' });
      if (!created.ok) throw new Error(`creating a session: ${created.status}`);
      const { token } = await created.json();
      const device = new CountingDevice(server.url, { fields: FIELDS, http: client === 'fetch' ? nodeFetch : httpFetch }, tally);
      const form = new Form(i, kinds[i], token, device);
      form.tab = await device.open(token);
      form.type(random.pick(FIELDS));
      all[i] = form;
    });
    for (const form of all) form.tab.blur();
    await waitUntil(() => all.every((f) => f.saved()), 120000, 'every form saved before the maintenance');
    log(`${count} forms open and saved in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

    // The maintenance: the forms go on typing; some are hidden, some reloaded onto the
    // maintenance page.
    const begun = JSON.parse(await server.operator('maintenance', 'begin', '--minutes', '10', '--json'));
    log(`maintenance begun (${begun.downtime?.window ?? '?'}); ${typingSeconds} s of typing`);
    const typing = typingSeconds * 1000;
    const typingStart = performance.now();
    const scripts = all.map((form) => {
      const changes = form.kind === 'visible' ? random.int(1, 3) : random.int(1, 2);
      // Visible forms type all through the maintenance; the others before they leave it.
      const span = form.kind === 'visible' ? typing * 0.95 : typing * 0.5;
      const moments = Array.from({ length: changes }, () => random.next() * span).sort((a, b) => a - b);
      const fields = moments.map(() => random.pick(FIELDS));
      const blurs = moments.map(() => random.next() < 0.4);
      const leaveAt = moments[moments.length - 1] + 200 + random.next() * 800;
      return (async () => {
        const start = performance.now();
        for (let k = 0; k < moments.length; k += 1) {
          await sleep(Math.max(0, start + moments[k] - performance.now()));
          form.type(fields[k]);
          if (blurs[k]) form.tab.blur();
        }
        if (form.kind === 'visible') return;
        await sleep(Math.max(0, start + leaveAt - performance.now()));
        if (form.kind === 'hidden') form.tab.hide();
        else form.tab = await form.tab.reload();
      })();
    });
    await Promise.all(scripts);
    await sleep(Math.max(0, typingStart + typing - performance.now()));
    const onPage = all.filter((f) => f.kind === 'maintenance page' && f.tab.state === 'maintenance').length;
    const changes = all.reduce((sum, f) => sum + f.changes, 0);

    // The end, and the return.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const endCalled = performance.now();
    await server.operator('maintenance', 'end', '--json');
    const ended = performance.now();
    tally.ended = ended;
    delay.reset();
    const connectionsBefore = httpStats.connections;
    const cpu = { server: cpuSeconds(server.child.pid), client: process.cpuUsage(), postgres: postgres ? postgresCpuSeconds() : 0 };
    log(`maintenance ended (the CLI took ${Math.round(ended - endCalled)} ms); waiting for ${count} forms`);
    if (process.env.RETURN_TRACE) {
      tally.trace = [];
      let last = performance.now();
      const gaps = setInterval(() => {
        const now = performance.now();
        if (now - last > 100) console.error(`event loop blocked ${Math.round(now - last - 5)} ms at ${Math.round(last - ended)} ms`);
        last = now;
      }, 5);
      setTimeout(() => clearInterval(gaps), timeoutSeconds * 1000).unref();
    }
    const deadline = ended + timeoutSeconds * 1000;
    let waiting = all;
    while (waiting.length && performance.now() < deadline) {
      const now = performance.now() - ended;
      waiting = waiting.filter((form) => {
        if (!form.saved()) return true;
        form.savedAt = now;
        return false;
      });
      if (waiting.length) await sleep(10);
    }
    const returnMs = performance.now() - ended;
    const clientCpu = process.cpuUsage(cpu.client);
    const used = {
      server: cpuSeconds(server.child.pid) - cpu.server,
      client: (clientCpu.user + clientCpu.system) / 1e6,
      postgres: postgres ? postgresCpuSeconds() - cpu.postgres : null,
    };
    delay.disable();
    if (tally.trace) {
      const buckets = new Map();
      for (const [what, sent, answered] of tally.trace) {
        if (answered < ended) continue;
        const b = Math.floor((answered - ended) / 250);
        const row = buckets.get(b) ?? new Map();
        row.set(what, (row.get(what) ?? 0) + 1);
        buckets.set(b, row);
      }
      const savedBy = (ms) => all.filter((f) => f.savedAt !== null && f.savedAt < ms).length;
      for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
        console.error(`${String(b * 250).padStart(6)} ms: saved ${savedBy((b + 1) * 250)}; answered ${[...buckets.get(b)].map(([w, n]) => `${n} ${w}`).join(', ')}`);
      }
    }
    const requestsAfterEnd = tally.afterEnd;
    const connectionsOpened = client === 'fetch' ? null : httpStats.connections - connectionsBefore;

    // Lost answers: what the server holds of each session against the last values typed.
    await sleep(200);
    let lost = 0;
    const lostExamples = [];
    await eachLimited(all, SETUP_CONCURRENCY, async (form) => {
      const held = await (await fetch(`${server.url}/api/v1/sessions/${form.token}`)).json();
      for (const [field, value] of Object.entries(form.typed)) {
        if (held.answers?.[field] === value) continue;
        lost += 1;
        if (lostExamples.length < 5) lostExamples.push(`form ${form.index} (${form.kind}) ${field}: typed ${JSON.stringify(value)}, server ${JSON.stringify(held.answers?.[field])}`);
      }
    });
    const report = JSON.parse(await server.operator('maintenance', 'report', '--json'));

    const byKind = (kind) => {
      const group = kind ? all.filter((f) => f.kind === kind) : all;
      const times = group.map((f) => f.savedAt).filter((t) => t !== null).sort((a, b) => a - b);
      return {
        forms: group.length,
        saved: times.length,
        p50: quantile(times, group.length, 0.5),
        p99: quantile(times, group.length, 0.99),
        p100: quantile(times, group.length, 1),
      };
    };
    return {
      forms: count,
      backend,
      binary: server.bin,
      client,
      seed,
      typingSeconds,
      changes,
      onMaintenancePage: onPage,
      endCliMs: ended - endCalled,
      all: byKind(null),
      kinds: Object.fromEntries(KINDS.map((k) => [k, byKind(k)])),
      returnMs,
      errors: tally.errors,
      errorKinds: Object.fromEntries(tally.examples),
      requests: tally.requests,
      requestsAfterEnd,
      connectionsOpened,
      expected503: tally.expected503,
      cpu: used,
      eventLoopDelayMs: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
      fields: all.reduce((sum, f) => sum + Object.keys(f.typed).length, 0),
      lost,
      lostExamples,
      reportChangesLost: report.changes_lost ?? report.report?.changes_lost ?? null,
      limits,
    };
  } finally {
    for (const form of all) for (const tab of [...(form?.device.tabs ?? [])]) tab.crash();
    await server.stop();
  }
}

async function waitUntil(check, timeout, what) {
  const deadline = performance.now() + timeout;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const seconds = (ms) => (ms === null ? 'never' : `${(ms / 1000).toFixed(2)} s`);

/** The result as a table. */
export function describe(r) {
  const lines = [];
  const cores = (cpu) => (cpu === null ? '' : `${cpu.toFixed(2)} s (${(cpu / (r.returnMs / 1000)).toFixed(2)} cores)`);
  lines.push(
    `holdfast return after maintenance: ${r.forms} forms, one browser each (${KINDS.map((k) => `${r.kinds[k].forms} ${k}`).join(', ')}), ${r.backend}, ${r.binary}`,
  );
  lines.push(
    `${r.typingSeconds} s of typing during the maintenance (${r.changes} changes in all); ${r.onMaintenancePage} forms on the maintenance page at the end; times from the moment \`holdfast maintenance end\` returned (it took ${Math.round(r.endCliMs)} ms)`,
  );
  lines.push('');
  lines.push(`${'forms'.padEnd(18)}${'count'.padStart(7)}${'saved'.padStart(7)}${'50 %'.padStart(10)}${'99 %'.padStart(10)}${'100 %'.padStart(10)}`);
  for (const [name, g] of [['all', r.all], ...KINDS.map((k) => [k, r.kinds[k]])]) {
    lines.push(`${name.padEnd(18)}${String(g.forms).padStart(7)}${String(g.saved).padStart(7)}${seconds(g.p50).padStart(10)}${seconds(g.p99).padStart(10)}${seconds(g.p100).padStart(10)}`);
  }
  lines.push('');
  const kinds = Object.entries(r.errorKinds).map(([k, n]) => `${n}× ${k}`).join('; ');
  lines.push(`error answers: ${r.errors}${kinds ? ` (${kinds})` : ''}`);
  lines.push(`requests: ${r.requestsAfterEnd} sent after the end${r.connectionsOpened === null ? '' : ` (${r.connectionsOpened} new connections during the return)`}; ${r.expected503} expected 503s during the maintenance`);
  lines.push(`lost answers: ${r.lost} of ${r.fields} fields typed${r.lostExamples.length ? ` (${r.lostExamples.join('; ')})` : ''}; the maintenance report's changes_lost: ${r.reportChangesLost}`);
  lines.push(`CPU during the return (${seconds(r.returnMs)}): server ${cores(r.cpu.server)}, this client ${cores(r.cpu.client)}${r.cpu.postgres === null ? '' : `, PostgreSQL ${cores(r.cpu.postgres)}`}; client event loop delay p99 ${r.eventLoopDelayMs.p99.toFixed(0)} ms, max ${r.eventLoopDelayMs.max.toFixed(0)} ms`);
  lines.push(`open files: this process may open ${r.limits.client.soft}, the server ${r.limits.server.soft} (about ${r.limits.needed} needed)`);
  return lines.join('\n');
}

function parseArgs(argv) {
  const options = { forms: 1000, binary: resolve(ROOT, 'target/release/holdfast'), json: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--forms') options.forms = Number(value());
    else if (arg === '--server-binary') options.binary = resolve(value());
    else if (arg === '--database') options.postgres = value();
    else if (arg === '--typing-seconds') options.typingSeconds = Number(value());
    else if (arg === '--timeout') options.timeoutSeconds = Number(value());
    else if (arg === '--seed') options.seed = Number(value());
    else if (arg === '--client') options.client = value();
    else if (arg === '--json') options.json = true;
    else throw new Error(`unknown argument ${arg} (see the top of tests/sim/return.js)`);
  }
  return options;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let code = 0;
  try {
    const options = parseArgs(process.argv.slice(2));
    const result = await run({ ...options, log: (line) => console.error(line) });
    console.log(describe(result));
    if (options.json) console.log(JSON.stringify(result));
    const failed = result.all.saved < result.forms || result.errors > 0 || result.lost > 0 || result.reportChangesLost > 0;
    code = failed ? 1 : 0;
  } catch (error) {
    console.error(`return.js: ${error.message}`);
    code = 2;
  }
  // Pages that are gone may still have a timer or two pending; nothing of them matters now.
  process.exit(code);
}
