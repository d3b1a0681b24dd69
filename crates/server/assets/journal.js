// The journal: what this device keeps of a session until the server has durably saved it.
//
// Entries, keyed by the session token:
// - one record per tab (client) that edited the session:
//   {key, token, client, seq, pending, batches, v}: edits not yet in a batch, and the numbered
//   batches not yet acknowledged (each {client, seq, answers}, resent as they are);
// - one snapshot: {key, token, revision, answers}, the newest answers the server confirmed, so
//   that a page shown from the service worker's copy while the server is down is up to date.
//
// Stored in IndexedDB; in localStorage when IndexedDB cannot be opened (some private modes).
// A record is also mirrored synchronously to localStorage when the page is hidden or closed,
// because an IndexedDB write started then may not finish; reading takes the newer copy (`v`).
// This module only stores: what the entries mean is sync.js's business.

const DB_NAME = 'holdfast';
const STORE = 'journal';
const LOCAL = 'holdfast:';

/** The key of a tab's record. */
export const recordKey = (token, client) => `${token} c:${client}`;
/** The key of a session's snapshot. */
export const snapshotKey = (token) => `${token} server`;

function local() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function localGet(key) {
  try {
    return JSON.parse(local()?.getItem(LOCAL + key) ?? 'null');
  } catch {
    return null;
  }
}

function localPut(entry) {
  try {
    local()?.setItem(LOCAL + entry.key, JSON.stringify(entry));
  } catch {
    // Full or forbidden: IndexedDB still has it, or nothing can be kept on this device.
  }
}

function localRemove(key) {
  try {
    local()?.removeItem(LOCAL + key);
  } catch {
    // Nothing to do.
  }
}

function localEntries(token) {
  const store = local();
  const out = [];
  if (!store) return out;
  const prefix = `${LOCAL}${token} `;
  for (let i = 0; i < store.length; i += 1) {
    const key = store.key(i);
    if (key && key.startsWith(prefix)) {
      const entry = localGet(key.slice(LOCAL.length));
      if (entry) out.push(entry);
    }
  }
  return out;
}

const done = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'key' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('blocked'));
    setTimeout(() => reject(new Error('IndexedDB did not open in time')), 3000);
  });
}

/** A journal over IndexedDB, or over localStorage alone when `db` is null. */
class Journal {
  constructor(db) {
    this.db = db;
  }

  /** Every entry of a session: the newer of the IndexedDB and localStorage copies of each. */
  async entries(token) {
    const byKey = new Map();
    for (const entry of localEntries(token)) byKey.set(entry.key, entry);
    if (this.db) {
      try {
        const range = IDBKeyRange.bound(`${token} `, `${token} \uffff`);
        const found = await done(this.db.transaction(STORE).objectStore(STORE).getAll(range));
        for (const entry of found) {
          const mirror = byKey.get(entry.key);
          if (!mirror || (mirror.v ?? 0) <= (entry.v ?? 0)) byKey.set(entry.key, entry);
        }
      } catch {
        // Read what localStorage has.
      }
    }
    return [...byKey.values()];
  }

  /** Stores an entry; `now` also writes it synchronously (the page is going away). */
  put(entry, now = false) {
    if (!this.db || now) localPut(entry);
    if (!this.db) return Promise.resolve();
    try {
      const tx = this.db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).put(entry);
      return new Promise((resolve) => {
        tx.oncomplete = () => resolve();
        tx.onerror = tx.onabort = () => {
          localPut(entry);
          resolve();
        };
      });
    } catch {
      localPut(entry);
      return Promise.resolve();
    }
  }

  /** Removes an entry from both stores. */
  remove(key) {
    localRemove(key);
    if (!this.db) return Promise.resolve();
    try {
      const tx = this.db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).delete(key);
      return new Promise((resolve) => {
        tx.oncomplete = tx.onerror = tx.onabort = () => resolve();
      });
    } catch {
      return Promise.resolve();
    }
  }

  /** Forgets everything kept of a session (it was submitted). */
  async forget(token) {
    for (const entry of await this.entries(token)) await this.remove(entry.key);
  }
}

/** Opens the journal: IndexedDB if it can, else localStorage alone. */
export async function openJournal() {
  try {
    return new Journal(await openDatabase());
  } catch {
    return new Journal(null);
  }
}
