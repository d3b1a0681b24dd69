// Autosave: sends this tab's changes to the server as numbered batches and keeps every change
// in the journal until the server has acknowledged it.
//
// The protocol (crates/server/openapi.yaml): PATCH /api/v1/sessions/{token} with
// {client, seq, base, answers}; the answer comes only after the change is durably committed.
// `base` is the session revision this tab's view was on when the batch's edits were made: the
// server's merge rule (docs/browser.md) never lets it replace an answer someone else changed
// after that, and names such answers as conflicts, which are held here, at their field, until
// the person chooses. A batch is resent with its original client and seq until it is
// acknowledged, so the server applies it once; the server applies one client's batches in seq
// order whatever order they arrive in. One batch is in flight at a time; edits made meanwhile
// wait in `pending` and become the next batch.
//
// Nothing is ever dropped: a change the server refuses as invalid (422) is held at its field
// with the server's reason until the person changes it; a batch refused whole (403 from a
// proxy, say) stays queued and is tried again, slowly, while the page says it is not saved.
// Records of tabs that are gone (closed, crashed, or this tab before a reload) are taken over
// as soon as their Web Lock is free, and sent with their own client and seq.
//
// Failures (no connection, 5xx, 503 for maintenance) are retried with exponential backoff and
// jitter, at most 10 s apart, never before a Retry-After (and spread after it, so that many
// pages do not come back in lock-step); at once when the browser is back online or the person
// moves on. This module knows nothing of the page: holdfast.js tells it about edits and hears
// about the server's answers through `hooks`.

import { recordKey } from './journal.js';

const API = '/api/v1/sessions/';
/** Typing stopped this long: save. */
export const DEBOUNCE_MS = 500;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10000;
/** A batch refused whole (403 from a proxy…) is tried again at most this often. */
const REFUSED_RETRY_MS = 30000;
/** How long after a Retry-After the retries of many pages are spread over. */
const RETRY_SPREAD_MS = 5000;
/**
 * The long poll that tells a refused page the moment the service opens again
 * (GET /api/v1/availability?wait=…): how long the server holds it, and how long we wait.
 */
const AVAILABILITY = '/api/v1/availability?wait=25';
const AVAILABILITY_TIMEOUT_MS = 30000;
/** The longest spread of a return the server may ask for. */
const MAX_SPREAD_MS = 3000;
/** One tab of a device asks, and tells the others (a browser opens few connections per host). */
const WATCH_LOCK = 'holdfast-availability';
const WATCH_CHANNEL = 'holdfast-availability';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A server asking for a longer pause than this is asked again anyway. */
const MAX_RETRY_AFTER_MS = 300000;
const REQUEST_TIMEOUT_MS = 6000;
/** What `leave()` sent blind is sent again this long after, if the page still lives. */
const LEAVE_RESEND_MS = 1000;
/** A record last written longer ago than this by a browser without Web Locks is abandoned. */
const ABANDONED_MS = 60000;

async function request(url, method, body, keepalive = false, timeoutMs = REQUEST_TIMEOUT_MS) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(url, {
      method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
      credentials: 'same-origin',
      signal: abort.signal,
      keepalive,
    });
    let json = null;
    try {
      json = await response.json();
    } catch {
      // Not JSON (a proxy's error page): judged by the status alone.
    }
    return { status: response.status, headers: response.headers, json };
  } finally {
    clearTimeout(timer);
  }
}

function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const lockName = (id) => `holdfast-client-${id}`;

/** Holds the Web Lock of a client id for as long as the page lives; false if another tab has it. */
function holdLock(id) {
  if (!navigator.locks) return Promise.resolve(true);
  return new Promise((resolve) => {
    navigator.locks
      .request(lockName(id), { ifAvailable: true }, (lock) => {
        resolve(Boolean(lock));
        return lock ? new Promise(() => {}) : undefined;
      })
      .catch(() => resolve(true));
  });
}

/**
 * This page's client id: a fresh random one on every load, holding its Web Lock for as long as
 * the page lives (so other tabs can tell it is open). Never reused, so no seq is ever sent
 * twice with different changes, even after a browser crash lost what was written last; what
 * the page before a reload left in the journal is taken over like any gone tab's record.
 */
export async function claimClient() {
  const client = { id: randomId(), seq: 0 };
  await holdLock(client.id);
  return client;
}

/** The ids of the clients whose tabs are open (their locks are held); null if unknown. */
async function liveClients() {
  if (!navigator.locks?.query) return null;
  try {
    const { held = [] } = await navigator.locks.query();
    return new Set(held.map((l) => l.name));
  } catch {
    return null;
  }
}

/** Seconds from a 503's Retry-After header or its JSON `retry_after`, as milliseconds. */
function retryAfterMs(response) {
  const header = Number(response.headers?.get('Retry-After'));
  const seconds = Number.isFinite(header) && header > 0 ? header : Number(response.json?.retry_after);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : 0;
}

/** What is sent of a batch: the protocol's fields only. */
function body(batch) {
  const { client, seq, base, answers } = batch;
  return { client, seq, base, answers };
}

/** The delay before retry number `failures` (1, 2, …), never before `afterMs`. */
export function retryDelay(failures, afterMs, random = Math.random) {
  const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
  if (!afterMs) return backoff * (0.5 + random() / 2);
  return afterMs + random() * Math.min(afterMs / 2, RETRY_SPREAD_MS);
}

/** Autosave of one session by this tab. */
export class Autosave {
  /**
   * @param {string} token the session token
   * @param {{id: string, seq: number}} client this tab
   * @param journal the journal (journal.js)
   * @param hooks {answers(answers, revision): the server's answers; changed(): the save state
   *   may have changed; held(field): a field's held change appeared or went; submitted(): the
   *   session was submitted}
   */
  constructor(token, client, journal, hooks) {
    this.token = token;
    this.url = API + encodeURIComponent(token);
    this.client = client;
    this.journal = journal;
    this.hooks = hooks;
    /** Edits not yet in a batch, and the revision they were made on. */
    this.pending = {};
    this.pendingBase = 0;
    /** The newest session revision this tab has seen. */
    this.base = 0;
    this.queue = [];
    /**
     * Changes held at their field until the person acts, by field:
     * {kind: 'conflict', yours, theirs} (changed elsewhere meanwhile) or
     * {kind: 'invalid', yours, message} (refused by the server's checks).
     */
    this.held = {};
    /** Unsent changes of other open tabs on this device (their records in the journal). */
    this.elsewhere = 0;
    this.version = 0;
    this.failures = 0;
    /** null while the server answers; 'offline', 'unavailable' (503) or 'refused' if not. */
    this.problem = null;
    /** Whether the server has answered since the page loaded. */
    this.contacted = false;
    this.stopped = false;
    this.debounce = 0;
    this.retry = 0;
    this.running = null;
    /** Whether this tab waits for the service to open again (see `watch`). */
    this.watching = false;
    this.channel = null;
    try {
      this.channel = globalThis.BroadcastChannel ? new BroadcastChannel(WATCH_CHANNEL) : null;
      if (this.channel) this.channel.onmessage = (event) => this.reopened(event.data);
    } catch {
      this.channel = null;
    }
  }

  /**
   * The save state: 'saved', 'saving', 'conflict', 'invalid', 'offline', 'unavailable',
   * 'refused', or '' before we know.
   */
  state() {
    if (this.problem) return this.problem;
    const held = Object.values(this.held);
    if (held.some((h) => h.kind === 'conflict')) return 'conflict';
    if (held.length) return 'invalid';
    if (this.unsent() || this.elsewhere) return 'saving';
    return this.contacted ? 'saved' : '';
  }

  /** Whether this tab has changes the server does not hold (held ones included). */
  unsaved() {
    return this.unsent() || Object.keys(this.held).length > 0;
  }

  /** Whether this tab has changes to send. */
  unsent() {
    return this.queue.length > 0 || Object.keys(this.pending).length > 0;
  }

  /** Whether this tab has a change of `field` the server does not hold. */
  edited(field) {
    return (
      field in this.pending || field in this.held || this.queue.some((b) => field in b.answers)
    );
  }

  /** Every change the server does not hold, the newest value of each field. */
  localAnswers() {
    const out = {};
    for (const [field, held] of Object.entries(this.held)) out[field] = held.yours;
    for (const batch of this.queue) Object.assign(out, batch.answers);
    return Object.assign(out, this.pending);
  }

  /** The server's revision `revision` was seen (an acknowledgement, a refresh, the page). */
  seen(revision) {
    if (typeof revision === 'number' && revision > this.base) this.base = revision;
  }

  /** Takes up what the journal holds of this session: the records of tabs that are gone. */
  async restore() {
    await this.sweep();
  }

  /**
   * Looks at the journal: takes over the records of tabs that are gone (closed, crashed, this
   * tab before a reload: their Web Lock is free), and counts what other open tabs still have
   * to send. Their batches keep their client and seq; their unbatched edits become their
   * client's next batch, on the revision they were made on.
   */
  async sweep() {
    if (this.stopped) return;
    const entries = await this.journal.entries(this.token);
    const live = await liveClients();
    const now = Date.now();
    const ownKey = recordKey(this.token, this.client.id);
    const records = entries.filter((e) => e.client && Array.isArray(e.batches) && e.key !== ownKey);
    const gone = records
      .filter((e) => (live ? !live.has(lockName(e.client)) : now - (e.at ?? 0) > ABANDONED_MS))
      .sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
    this.elsewhere = records.filter(
      (e) => !gone.includes(e) && (e.batches.length || Object.keys(e.pending ?? {}).length),
    ).length;
    if (!gone.length) {
      this.hooks.changed();
      return;
    }
    const taken = [];
    for (const record of gone) {
      for (const batch of record.batches) {
        if (!this.queue.some((b) => b.client === batch.client && b.seq === batch.seq)) {
          taken.push({ base: 0, ...batch });
        }
      }
      const next = (record.seq ?? 0) + 1;
      const known = (b) => b.client === record.client && b.seq === next;
      // (Two sweeps may meet the same record before either removed it: taken once.)
      if (record.pending && Object.keys(record.pending).length && !this.queue.some(known)) {
        taken.push({
          client: record.client,
          seq: next,
          base: record.base ?? 0,
          answers: record.pending,
          at: record.at ?? 0,
        });
      }
      for (const [field, held] of Object.entries(record.held ?? {})) {
        // Two held changes of one field: the one typed last is what the person meant.
        const mine = this.held[field];
        if (!mine || (held.at ?? 0) > (mine.at ?? 0)) {
          this.held[field] = held;
          this.hooks.held(field);
        }
      }
    }
    // Theirs were made before anything still unsent here: they go first.
    this.queue = [...taken, ...this.queue];
    // Ours first, then theirs can go: at no moment is a change in neither.
    await this.save();
    for (const record of gone) await this.journal.remove(record.key);
    this.hooks.changed();
    if (taken.length && !this.retry) this.kick();
  }

  /** Writes this tab's record (or removes it when nothing is left to save). */
  save(now = false) {
    const key = recordKey(this.token, this.client.id);
    if (!this.unsaved()) return this.journal.remove(key);
    this.version += 1;
    return this.journal.put(
      {
        key,
        token: this.token,
        client: this.client.id,
        seq: this.client.seq,
        base: this.pendingBase,
        pending: this.pending,
        batches: this.queue,
        held: this.held,
        v: this.version,
        at: Date.now(),
      },
      now,
    );
  }

  /** The person changed a field: keep it, and save once typing has paused. */
  edit(field, value) {
    if (this.stopped) return;
    const pendingEdits = Object.keys(this.pending).length;
    // A batch's edits are all made on one revision: if a newer one was seen since the first
    // of them, those go as a batch of their own.
    if (pendingEdits && this.pendingBase !== this.base) this.cut();
    if (!Object.keys(this.pending).length) this.pendingBase = this.base;
    this.pending[field] = value;
    this.pendingAt = Date.now();
    if (field in this.held) {
      delete this.held[field];
      this.hooks.held(field);
    }
    this.save();
    this.hooks.changed();
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.soon(), DEBOUNCE_MS);
  }

  /** The person keeps their own value of a conflict: it is sent on what they have now seen. */
  keep(field) {
    const held = this.held[field];
    if (!held) return;
    this.edit(field, held.yours);
    this.soon();
  }

  /** The person takes the other value of a conflict: nothing to send. */
  letGo(field) {
    if (!(field in this.held)) return;
    delete this.held[field];
    this.save();
    this.hooks.held(field);
    this.hooks.changed();
  }

  /** Save now (blur, change), unless waiting out a failure: the retry takes everything along. */
  soon() {
    clearTimeout(this.debounce);
    if (!this.retry) this.kick();
  }

  /**
   * Save everything now, also while waiting out a failure (the person moves on, or the
   * browser is back online). True once the server holds everything this tab has sent;
   * false if it cannot. (Held changes wait for the person: see `held`.)
   */
  async flush() {
    clearTimeout(this.debounce);
    if (this.running) await this.running;
    clearTimeout(this.retry);
    this.retry = 0;
    return this.kick();
  }

  kick() {
    if (!this.running) {
      this.running = this.run().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  async run() {
    for (;;) {
      if (this.stopped) return false;
      if (!this.queue.length) this.cut();
      const batch = this.queue[0];
      if (!batch) {
        this.hooks.changed();
        return true;
      }
      if (!(await this.send(batch))) return false;
    }
  }

  /** Turns the pending edits into the next numbered batch. */
  cut() {
    if (!Object.keys(this.pending).length) return;
    this.client.seq += 1;
    this.queue.push({
      client: this.client.id,
      seq: this.client.seq,
      base: this.pendingBase,
      answers: this.pending,
      // When its last edit was made (kept on the device, not sent).
      at: this.pendingAt ?? Date.now(),
    });
    this.pending = {};
    this.save();
  }

  drop(batch) {
    this.queue = this.queue.filter((b) => b !== batch);
    this.save();
  }

  /** Holds a change at its field until the person acts on it. */
  hold(field, held) {
    // A newer edit of the field is on its way and will be judged on its own.
    if (field in this.pending || this.queue.some((b) => field in b.answers)) return;
    this.held[field] = held;
    this.hooks.held(field);
  }

  /** Sends one batch; true if the loop may go on with the next one. */
  async send(batch) {
    this.hooks.changed();
    let response;
    try {
      response = await request(this.url, 'PATCH', body(batch));
    } catch {
      return this.failed('offline', 0);
    }
    const { status, json } = response;
    if (status === 200 && json && typeof json.revision === 'number') {
      this.drop(batch);
      this.seen(json.revision);
      this.answered();
      for (const conflict of Array.isArray(json.conflicts) ? json.conflicts : []) {
        this.hold(conflict.field, {
          kind: 'conflict',
          yours: conflict.yours ?? null,
          theirs: conflict.theirs ?? null,
          at: batch.at ?? Date.now(),
        });
      }
      this.save();
      this.hooks.answers(json.answers ?? {}, json.revision);
      return true;
    }
    if (status === 409) {
      // Submitted (here or elsewhere): no change can be applied any more.
      this.stop();
      return false;
    }
    if (status === 422 && Array.isArray(json?.errors) && json.errors.length) {
      // Nothing was stored. What the server refuses is held at its field with its reason,
      // until the person changes it; the rest goes again under the same seq.
      for (const problem of json.errors) {
        if (!(problem.field in batch.answers)) continue;
        const yours = batch.answers[problem.field];
        delete batch.answers[problem.field];
        this.hold(problem.field, {
          kind: 'invalid',
          yours,
          message: String(problem.message),
          at: batch.at ?? Date.now(),
        });
      }
      if (!Object.keys(batch.answers).length) this.drop(batch);
      else this.save();
      this.hooks.changed();
      return true;
    }
    // A session is never deleted: a 404 is a server or proxy out of step, so it is retried.
    if (status >= 400 && status < 500 && ![404, 408, 429].includes(status)) {
      // Refused whole (a proxy, a firewall): kept, and tried again now and then.
      console.warn('Holdfast: the server refused a change', status, json);
      this.refusal = status;
      return this.failed('refused', REFUSED_RETRY_MS);
    }
    return this.failed(status === 503 ? 'unavailable' : 'offline', retryAfterMs(response));
  }

  answered() {
    this.failures = 0;
    this.problem = null;
    this.refusal = null;
    this.contacted = true;
  }

  failed(problem, afterMs) {
    this.problem = problem;
    this.failures += 1;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = 0;
      this.kick();
    }, retryDelay(this.failures, afterMs));
    this.hooks.changed();
    this.watch();
    return false;
  }

  /** Whether the server refuses this tab for now (maintenance, unreachable). */
  waiting() {
    return !this.stopped && (this.problem === 'unavailable' || this.problem === 'offline');
  }

  /**
   * While the service is closed or unreachable, asks the server to say the moment it opens
   * (a long poll), instead of waiting for the next retry. One tab of the device asks (under a
   * Web Lock) and tells the others through a BroadcastChannel.
   */
  watch() {
    if (this.watching || !this.waiting()) return;
    this.watching = true;
    const locks = this.channel ? globalThis.navigator?.locks : null;
    let asking;
    try {
      // Waits its turn: the tab asking now tells this one; then this one finds it need not ask.
      asking = locks ? locks.request(WATCH_LOCK, () => this.ask()) : this.ask();
    } catch {
      asking = this.ask();
    }
    asking
      .catch(() => this.ask())
      .finally(() => {
        this.watching = false;
      });
  }

  /** The long poll itself, until the service opens or this tab no longer waits. */
  async ask() {
    let refusedWhileOpen = 0;
    while (this.waiting()) {
      let answer = null;
      try {
        answer = await request(AVAILABILITY, 'GET', null, false, AVAILABILITY_TIMEOUT_MS);
      } catch {
        answer = null;
      }
      if (answer?.status === 200 && answer.json?.open === true) {
        this.channel?.postMessage({ open: true, spread_ms: answer.json.spread_ms });
        await this.reopened(answer.json);
        // Said to be open, yet this tab is still refused (another node, a proxy): back off.
        if (this.waiting()) await sleep(retryDelay((refusedWhileOpen += 1), 0));
        continue;
      }
      if (answer?.status === 200 && answer.json?.open === false) continue;
      // No answer (unreachable, or a server without the long poll): as a retry would.
      await sleep(retryDelay(Math.max(this.failures, 1), 0));
    }
  }

  /** The service is open again: come back, at a random moment of the spread it asked for. */
  async reopened(message) {
    if (!message?.open || !this.waiting() || this.returning) return;
    this.returning = true;
    try {
      const spread = Math.min(Math.max(Number(message.spread_ms) || 0, 0), MAX_SPREAD_MS);
      await sleep(Math.random() * spread);
      clearTimeout(this.retry);
      this.retry = 0;
      this.failures = 0;
      await this.refresh();
      if (!this.waiting() && this.unsent()) await this.flush();
      this.hooks.reopened?.();
    } finally {
      this.returning = false;
    }
  }

  /** The session was submitted: nothing more to save. */
  stop() {
    this.close();
    this.hooks.submitted();
  }

  /** Ends this tab's work (the page goes away): no timer or message keeps it going. */
  close() {
    this.stopped = true;
    clearTimeout(this.retry);
    clearTimeout(this.debounce);
    this.channel?.close();
    this.channel = null;
  }

  /** Asks the server what it holds (another tab's changes, or whether it is back). */
  async refresh() {
    if (this.stopped) return;
    let response;
    try {
      response = await request(this.url, 'GET');
    } catch {
      this.problem = this.problem ?? 'offline';
      this.hooks.changed();
      this.watch();
      return;
    }
    const { status, json } = response;
    if (status === 200 && json) {
      if (json.submitted) {
        this.stop();
        return;
      }
      if (this.problem !== 'refused') this.answered();
      this.seen(json.revision);
      this.hooks.answers(json.answers ?? {}, json.revision);
      this.hooks.changed();
      // Whatever is unsent goes now: what waited out a failure, and what `leave()` sent blind
      // (its answer is never read) before the page was shown again.
      if (this.unsent() && this.problem !== 'refused') this.flush();
    } else if (status >= 500 || status === 404) {
      this.problem = status === 503 ? 'unavailable' : 'offline';
      this.hooks.changed();
      this.watch();
    }
  }

  /**
   * The page is being hidden or closed: everything becomes a batch, is written synchronously,
   * and is sent with keepalive so the request outlives the page. The requests may arrive in
   * any order (the server applies them by seq). What is not acknowledged stays in the journal
   * for the next visit, or for another open tab to take over.
   */
  leave() {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.cut();
    if (!this.unsaved()) return;
    this.save(true);
    for (const batch of this.queue) {
      try {
        fetch(this.url, {
          method: 'PATCH',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body(batch)),
          keepalive: true,
          credentials: 'same-origin',
        }).catch(() => {});
      } catch {
        // Over the keepalive quota: the journal has it.
      }
    }
    // Their answers are never read. If the page lives on (hidden, or shown again), they are
    // sent again the ordinary way (the server applies a batch once), so that they leave the
    // journal, or wait out the failure that kept them.
    if (!this.retry) {
      this.retry = setTimeout(() => {
        this.retry = 0;
        this.kick();
      }, LEAVE_RESEND_MS);
    }
  }
}
