// The journal: what this device keeps of a session until the server has durably saved it.
//
// Entries, keyed by the session token:
// - one record per tab (client) that edited the session:
//   {key, token, client, seq, pending, batches, v}: edits not yet in a batch, and the numbered
//   batches not yet acknowledged (each {client, seq, answers}, resent as they are);
// - one snapshot: {key, token, revision, answers}, the newest answers the server confirmed, so
//   that a page shown from the service worker's copy while the server is down is up to date.
//
// Where entries are kept is the journal's `mode`, and it is told honestly:
// - 'indexeddb': durable (written to disk when the write completes);
// - 'localstorage': IndexedDB cannot be used (some private modes) or is not open yet; survives
//   a reload and a closed tab, but Chromium writes it to disk late, so a browser crash may lose
//   the last entries;
// - 'memory': nothing can be kept on this device (site data blocked, storage full); entries
//   live as long as the page.
// Each is checked by writing and reading back a probe entry before it is used. A write that
// fails later moves the journal down to the next mode for good, and says so (a 'mode' event).
//
// IndexedDB slow to open is waited for, however long: meanwhile entries go to localStorage and
// `known` is false (IndexedDB may hold entries of an earlier visit). Once it opens, the
// localStorage entries are moved into it, `known` becomes true, `ready` resolves and an
// 'upgrade' event says that `entries()` may now return more than before.
//
// A record is also mirrored synchronously to localStorage when the page is hidden or closed,
// because an IndexedDB write started then may not finish; reading takes the newer copy (`v`).
// This module only stores: what the entries mean is sync.js's business.

const DB_NAME = 'holdfast';
const STORE = 'journal';
const LOCAL = 'holdfast:';
/** IndexedDB not open after this long: use localStorage meanwhile (and keep waiting). */
const OPEN_WAIT_MS = 3000;
const PROBE = 'holdfast-probe';

/** The key of a tab's record. */
export const recordKey = (token, client) => `${token} c:${client}`;
/** The key of a session's snapshot. */
export const snapshotKey = (token) => `${token} server`;

/** How well each mode keeps entries, best first. */
const MODES = ['indexeddb', 'localstorage', 'memory'];

function local() {
  try {
    return window.localStorage;
  } catch {
    return null; // Site data blocked: reading the property throws.
  }
}

/** Writes an entry to localStorage; throws when it cannot (full, forbidden). */
function localPut(entry) {
  const store = local();
  if (!store) throw new Error('localStorage is not available');
  store.setItem(LOCAL + entry.key, JSON.stringify(entry));
}

function localRemove(key) {
  try {
    local()?.removeItem(LOCAL + key);
  } catch {
    // Not there to remove.
  }
}

/** Every entry in localStorage whose key starts with `prefix`, with its stored text. */
function localEntries(prefix = '') {
  const store = local();
  const out = [];
  if (!store) return out;
  try {
    for (let i = 0; i < store.length; i += 1) {
      const key = store.key(i);
      if (!key?.startsWith(LOCAL + prefix)) continue;
      const text = store.getItem(key);
      try {
        const entry = JSON.parse(text ?? 'null');
        if (entry?.key) out.push({ entry, text });
      } catch {
        // Not ours, or damaged: leave it.
      }
    }
  } catch {
    // Unreadable: nothing there for us.
  }
  return out;
}

/** Whether localStorage takes a write and gives it back. */
function localWorks() {
  try {
    const store = local();
    if (!store) return false;
    const value = String(Math.random());
    store.setItem(LOCAL + PROBE, value);
    const back = store.getItem(LOCAL + PROBE);
    store.removeItem(LOCAL + PROBE);
    return back === value;
  } catch {
    return false;
  }
}

const done = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

const committed = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted'));
  });

/** Opens the database, however long it takes; rejects if it cannot be opened or used. */
async function openDatabase() {
  if (typeof indexedDB === 'undefined') throw new Error('no IndexedDB');
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'key' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB did not open'));
    // Blocked: another tab holds an older version open; success follows once it lets go.
  });
  // Write a probe and read it back: a database that opens may still refuse writes.
  const value = String(Math.random());
  const tx = db.transaction(STORE, 'readwrite');
  const store = tx.objectStore(STORE);
  store.put({ key: PROBE, value });
  const back = done(store.get(PROBE));
  store.delete(PROBE);
  await committed(tx);
  if ((await back)?.value !== value) throw new Error('IndexedDB gave back something else');
  return db;
}

/** Where and how this device keeps a session's entries (see the top of this file). */
class Journal extends EventTarget {
  constructor() {
    super();
    this.db = null;
    /** 'indexeddb', 'localstorage' or 'memory'. */
    this.mode = 'memory';
    /** Whether every entry kept on this device can be read (false while IndexedDB opens). */
    this.known = true;
    /** Resolves once `known` is true. */
    this.ready = Promise.resolve();
    /** Whether the browser agreed to keep this site's storage under pressure (null: unknown). */
    this.persisted = null;
    /** Entries kept in the page alone (mode 'memory', or a write that failed everywhere). */
    this.memory = new Map();
  }

  /** Moves to `mode` if it is worse than the current one, and tells why. */
  downgrade(mode, error) {
    if (MODES.indexOf(mode) <= MODES.indexOf(this.mode)) return;
    this.mode = mode;
    if (mode !== 'indexeddb') this.db = null;
    console.warn(`Holdfast: answers are now kept in ${mode}:`, error);
    this.dispatchEvent(Object.assign(new Event('mode'), { mode, error }));
  }

  /** Moves the entries in localStorage (written while IndexedDB could not be used) into `db`. */
  async moveIn(db) {
    const moved = localEntries().filter(({ entry }) => entry.key !== PROBE);
    if (!moved.length) return;
    try {
      const tx = db.transaction(STORE, 'readwrite');
      const store = tx.objectStore(STORE);
      for (const { entry } of moved) {
        const request = store.get(entry.key);
        request.onsuccess = () => {
          if ((request.result?.v ?? -1) <= (entry.v ?? 0)) store.put(entry);
        };
      }
      await committed(tx);
      // Keep what another page (still on localStorage) changed since it was read.
      for (const { entry, text } of moved) {
        if (local()?.getItem(LOCAL + entry.key) === text) localRemove(entry.key);
      }
    } catch (error) {
      // The entries stay in localStorage, which is still read.
      console.warn('Holdfast: could not move the journal into IndexedDB:', error);
    }
  }

  /** IndexedDB opened late: take in what was kept meanwhile, then use it. */
  async upgrade(db) {
    await this.moveIn(db);
    for (const entry of this.memory.values()) {
      try {
        await this.write(db, entry);
        this.memory.delete(entry.key);
      } catch (error) {
        console.warn('Holdfast: could not move an entry into IndexedDB:', error);
      }
    }
    if (!this.memory.size) {
      this.db = db;
      this.mode = 'indexeddb';
    }
    this.known = true;
    this.dispatchEvent(Object.assign(new Event('mode'), { mode: this.mode }));
    this.dispatchEvent(new Event('upgrade'));
  }

  async write(db, entry) {
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(entry);
    await committed(tx);
  }

  /** Every entry of a session: the newest copy of each, wherever it is. */
  async entries(token) {
    const byKey = new Map();
    const take = (entry) => {
      const other = byKey.get(entry.key);
      if (!other || (other.v ?? 0) <= (entry.v ?? 0)) byKey.set(entry.key, entry);
    };
    for (const { entry } of localEntries(`${token} `)) take(entry);
    if (this.db) {
      try {
        const range = IDBKeyRange.bound(`${token} `, `${token} \uffff`);
        const found = await done(this.db.transaction(STORE).objectStore(STORE).getAll(range));
        for (const entry of found) take(entry);
      } catch (error) {
        console.warn('Holdfast: could not read the journal in IndexedDB:', error);
      }
    }
    for (const entry of this.memory.values()) if (entry.token === token) take(entry);
    return [...byKey.values()];
  }

  /**
   * Stores an entry; `now` also writes it synchronously (the page is going away). A write
   * that fails falls back to the next mode, which it reports; it never fails itself.
   */
  async put(entry, now = false) {
    if (now && this.mode === 'indexeddb') {
      try {
        localPut(entry);
      } catch {
        // Only a mirror: IndexedDB has it, unless the write below does not finish.
      }
    }
    if (this.db) {
      try {
        await this.write(this.db, entry);
        this.memory.delete(entry.key);
        return;
      } catch (error) {
        this.downgrade('localstorage', error);
      }
    }
    if (this.mode !== 'memory') {
      try {
        localPut(entry);
        this.memory.delete(entry.key);
        return;
      } catch (error) {
        this.downgrade('memory', error);
      }
    }
    this.memory.set(entry.key, entry);
  }

  /** Removes an entry from everywhere. */
  remove(key) {
    localRemove(key);
    this.memory.delete(key);
    if (!this.db) return Promise.resolve();
    try {
      const tx = this.db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).delete(key);
      return committed(tx).catch((error) => console.warn('Holdfast: could not remove', key, error));
    } catch (error) {
      console.warn('Holdfast: could not remove', key, error);
      return Promise.resolve();
    }
  }

  /** Forgets everything kept of a session (it was submitted), also once IndexedDB opens. */
  async forget(token) {
    for (const entry of await this.entries(token)) await this.remove(entry.key);
    if (!this.known) {
      this.ready.then(async () => {
        for (const entry of await this.entries(token)) await this.remove(entry.key);
      });
    }
  }
}

/** Asks the browser to keep this site's storage under pressure; remembers the answer. */
async function askToPersist(journal) {
  try {
    if (!navigator.storage?.persist) return;
    journal.persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  } catch {
    journal.persisted = false;
  }
}

/**
 * Opens the journal: IndexedDB if it works; localStorage while IndexedDB is slow to open (it is
 * still waited for) or when it cannot be used; the page's memory when neither can.
 */
export async function openJournal() {
  const journal = new Journal();
  askToPersist(journal);
  const opening = openDatabase();
  const outcome = await Promise.race([
    opening.then(
      (db) => ({ db }),
      (error) => ({ error }),
    ),
    new Promise((resolve) => setTimeout(() => resolve({ slow: true }), OPEN_WAIT_MS)),
  ]);
  if (outcome.db) {
    journal.db = outcome.db;
    journal.mode = 'indexeddb';
    // Entries mirrored or written to localStorage by an earlier visit move in with the rest
    // (meanwhile they are read from localStorage).
    journal.moveIn(outcome.db);
    return journal;
  }
  if (outcome.error) console.warn('Holdfast: IndexedDB cannot be used:', outcome.error);
  journal.mode = localWorks() ? 'localstorage' : 'memory';
  if (outcome.slow) {
    console.warn('Holdfast: IndexedDB is slow to open; using localStorage until it does');
    journal.known = false;
    journal.ready = opening.then(
      (db) => journal.upgrade(db),
      (error) => {
        console.warn('Holdfast: IndexedDB cannot be used:', error);
        journal.known = true;
      },
    );
  }
  return journal;
}
