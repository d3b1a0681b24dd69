// Autosave: sends this tab's changes to the server as numbered batches and keeps every change
// in the journal until the server has acknowledged it.
//
// The protocol (crates/server/openapi.yaml): PATCH /api/v1/sessions/{token} with
// {client, seq, answers}; the answer comes only after the change is durably committed. A batch
// is resent with its original client and seq until it is acknowledged, so the server applies
// it once. One batch is in flight at a time; edits made meanwhile wait in `pending` and become
// the next batch, so batches reach the server in order.
//
// Failures (no connection, 5xx, 503 for maintenance) are retried with exponential backoff and
// jitter, at most 10 s apart, never before a Retry-After; at once when the browser is back
// online or the person moves on. This module knows nothing of the page: holdfast.js tells it
// about edits and hears about the server's answers through `hooks`.

import { recordKey } from './journal.js';

const API = '/api/v1/sessions/';
/** Typing stopped this long: save. */
export const DEBOUNCE_MS = 500;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10000;
/** A server asking for a longer pause than this is asked again anyway. */
const MAX_RETRY_AFTER_MS = 300000;
const REQUEST_TIMEOUT_MS = 10000;
/** A record last written longer ago than this by a browser without Web Locks is abandoned. */
const ABANDONED_MS = 60000;
const CLIENT_KEY = 'holdfast.client';

async function request(url, method, body, keepalive = false) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
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
 * This tab's client id and the last seq it used, kept in sessionStorage. A duplicated tab
 * inherits sessionStorage: the id's Web Lock tells, and the copy takes a new id. (The lock of
 * the page this one replaces on reload may be released a moment late, hence the retries.)
 */
export async function claimClient() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(CLIENT_KEY) ?? 'null');
  } catch {
    saved = null;
  }
  if (saved && typeof saved.id === 'string' && Number.isInteger(saved.seq)) {
    for (let attempt = 0; attempt < 8; attempt += 1) {
      if (await holdLock(saved.id)) return saved;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const client = { id: randomId(), seq: 0 };
  await holdLock(client.id);
  saveClient(client);
  return client;
}

function saveClient(client) {
  try {
    sessionStorage.setItem(CLIENT_KEY, JSON.stringify(client));
  } catch {
    // The seq also lives in the journal record.
  }
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

/** Autosave of one session by this tab. */
export class Autosave {
  /**
   * @param {string} token the session token
   * @param {{id: string, seq: number}} client this tab
   * @param journal the journal (journal.js)
   * @param hooks {answers(answers, revision): the server's answers; changed(): the save state
   *   may have changed; submitted(): the session was submitted}
   */
  constructor(token, client, journal, hooks) {
    this.token = token;
    this.url = API + encodeURIComponent(token);
    this.client = client;
    this.journal = journal;
    this.hooks = hooks;
    this.pending = {};
    this.queue = [];
    this.version = 0;
    this.failures = 0;
    /** null while the server answers; 'offline' or 'unavailable' (503) while it does not. */
    this.problem = null;
    /** Whether the server has answered since the page loaded. */
    this.contacted = false;
    this.stopped = false;
    this.debounce = 0;
    this.retry = 0;
    this.running = null;
  }

  /** The save state: 'saved', 'saving', 'offline', 'unavailable', or '' before we know. */
  state() {
    if (this.problem) return this.problem;
    if (this.unsaved()) return 'saving';
    return this.contacted ? 'saved' : '';
  }

  /** Whether something is not yet acknowledged by the server. */
  unsaved() {
    return this.queue.length > 0 || Object.keys(this.pending).length > 0;
  }

  /** Whether this tab has an unacknowledged change of `field`. */
  edited(field) {
    return field in this.pending || this.queue.some((batch) => field in batch.answers);
  }

  /** Every unacknowledged change, the newest value of each field. */
  localAnswers() {
    const out = {};
    for (const batch of this.queue) Object.assign(out, batch.answers);
    return Object.assign(out, this.pending);
  }

  /**
   * Takes up what the journal holds of this session: this tab's record, and the records of
   * tabs that are gone (closed, crashed), whose batches are resent with their own client and
   * seq. Records of other open tabs are theirs to send.
   */
  async restore() {
    const entries = await this.journal.entries(this.token);
    const live = await liveClients();
    const now = Date.now();
    const ownKey = recordKey(this.token, this.client.id);
    const records = entries
      .filter((e) => e.client && Array.isArray(e.batches) && e.pending)
      .filter(
        (e) =>
          e.key === ownKey ||
          (live ? !live.has(lockName(e.client)) : now - (e.at ?? 0) > ABANDONED_MS),
      )
      .sort((a, b) => (a.key === ownKey) - (b.key === ownKey) || (a.at ?? 0) - (b.at ?? 0));
    if (!records.length) return;
    const queue = [];
    const pending = {};
    for (const record of records) {
      for (const batch of record.batches) {
        if (!queue.some((b) => b.client === batch.client && b.seq === batch.seq)) queue.push(batch);
      }
      Object.assign(pending, record.pending);
      if (record.client === this.client.id) {
        this.client.seq = Math.max(this.client.seq, record.seq ?? 0);
        this.version = Math.max(this.version, record.v ?? 0);
      }
    }
    for (const batch of queue) {
      if (batch.client === this.client.id) this.client.seq = Math.max(this.client.seq, batch.seq);
    }
    saveClient(this.client);
    this.queue = [...queue, ...this.queue];
    this.pending = { ...pending, ...this.pending };
    // Ours first, then theirs can go: at no moment is a change in neither.
    await this.save();
    for (const record of records) if (record.key !== ownKey) await this.journal.remove(record.key);
  }

  /** Writes this tab's record (or removes it when everything is acknowledged). */
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
        pending: this.pending,
        batches: this.queue,
        v: this.version,
        at: Date.now(),
      },
      now,
    );
  }

  /** The person changed a field: keep it, and save once typing has paused. */
  edit(field, value) {
    if (this.stopped) return;
    this.pending[field] = value;
    this.save();
    this.hooks.changed();
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.soon(), DEBOUNCE_MS);
  }

  /** Save now (blur, change), unless waiting out a failure: the retry takes everything along. */
  soon() {
    clearTimeout(this.debounce);
    if (!this.retry) this.kick();
  }

  /**
   * Save everything now, also while waiting out a failure (the person moves on, or the
   * browser is back online). True once the server holds everything; false if it cannot.
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
    saveClient(this.client);
    this.queue.push({ client: this.client.id, seq: this.client.seq, answers: this.pending });
    this.pending = {};
    this.save();
  }

  drop(batch) {
    this.queue = this.queue.filter((b) => b !== batch);
    this.save();
  }

  /** Sends one batch; true if the loop may go on with the next one. */
  async send(batch) {
    this.hooks.changed();
    let response;
    try {
      response = await request(this.url, 'PATCH', batch);
    } catch {
      return this.failed('offline', 0);
    }
    const { status, json } = response;
    if (status === 200 && json && typeof json.revision === 'number') {
      this.drop(batch);
      this.answered();
      this.hooks.answers(json.answers ?? {}, json.revision);
      return true;
    }
    if (status === 409) {
      // Submitted (here or elsewhere): no change can be applied any more.
      this.stop();
      return false;
    }
    if (status === 422 && Array.isArray(json?.errors) && json.errors.length) {
      // Nothing was stored: leave out what the server refuses (the step's check will show
      // it at its field) and send the rest under the same seq.
      for (const problem of json.errors) delete batch.answers[problem.field];
      if (!Object.keys(batch.answers).length) this.drop(batch);
      else this.save();
      return true;
    }
    // A session is never deleted: a 404 is a server or proxy out of step, so it is retried.
    if (status >= 400 && status < 500 && ![404, 408, 429].includes(status)) {
      // Can never succeed as it is; keeping it would hold up every later change.
      console.warn('Holdfast: the server refused a change', status, json);
      this.drop(batch);
      return true;
    }
    return this.failed(status === 503 ? 'unavailable' : 'offline', retryAfterMs(response));
  }

  answered() {
    this.failures = 0;
    this.problem = null;
    this.contacted = true;
  }

  failed(problem, afterMs) {
    this.problem = problem;
    this.failures += 1;
    const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.failures - 1));
    const delay = Math.max(backoff * (0.5 + Math.random() / 2), afterMs);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = 0;
      this.kick();
    }, delay);
    this.hooks.changed();
    return false;
  }

  /** The session was submitted: nothing more to save. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retry);
    clearTimeout(this.debounce);
    this.hooks.submitted();
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
      return;
    }
    const { status, json } = response;
    if (status === 200 && json) {
      if (json.submitted) {
        this.stop();
        return;
      }
      const wasDown = this.problem !== null;
      this.answered();
      this.hooks.answers(json.answers ?? {}, json.revision);
      this.hooks.changed();
      if (this.unsaved() && (wasDown || this.retry)) this.flush();
    } else if (status >= 500 || status === 404) {
      this.problem = status === 503 ? 'unavailable' : 'offline';
      this.hooks.changed();
    }
  }

  /**
   * The page is being hidden or closed: everything becomes a batch, is written synchronously,
   * and is sent with keepalive so the request outlives the page. What is not acknowledged
   * stays in the journal for the next visit.
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
          body: JSON.stringify(batch),
          keepalive: true,
          credentials: 'same-origin',
        }).catch(() => {});
      } catch {
        // Over the keepalive quota: the journal has it.
      }
    }
  }
}
