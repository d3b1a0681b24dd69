// A simulated browser for the page's autosave: runs the real crates/server/assets/sync.js in
// Node against the real server, with what a browser gives it replaced by stand-ins that tests
// can steer. What the page does around it (holdfast.js: adopting the server's answers, the
// 15 s refresh, the 2 s sweep, hiding, the `online` event, the person's choice at a conflict)
// is mirrored here, in `Tab`; what the person does is up to the caller.
//
// - A `Device` is one browser profile: one journal (in memory, the interface of journal.js's
//   Journal), one set of Web Locks, one network switch, and the last copy of each session's
//   page the service worker keeps. All its tabs share them.
// - A `Tab` is one page of a session: one Autosave with a client of its own. It can be hidden,
//   reloaded, closed (the page's last save runs) or crash (nothing runs); a tab that is gone
//   runs no more code (its requests' answers and journal reads never come back), its Web Lock
//   is free and its journal record stays, for another tab to take over.
//
// sync.js reaches `fetch` and `navigator.locks` through globals. Which device and tab a call
// comes from is carried by AsyncLocalStorage (timers and promises keep it), so that many
// devices can run in one process (the load simulator): every entry into a tab's Autosave goes
// through `tab.within`.

import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent, request as httpRequest } from 'node:http';

import { recordKey, snapshotKey } from '../../crates/server/assets/journal.js';
import { waitForService } from '../../crates/server/assets/maintenance.js';
import { Autosave, claimClient } from '../../crates/server/assets/sync.js';

/** How often a visible page asks the server for changes made elsewhere (holdfast.js). */
const REFRESH_MS = 15000;
const MIN_REFRESH_GAP_MS = 2000;
/** How often a page looks at the journal for tabs that closed with changes unsent (holdfast.js). */
const SWEEP_MS = 2000;
/**
 * A page that could not be loaded at all (offline, no copy kept) is the browser's own error
 * page, which does nothing by itself: the simulated person reloads it this often.
 */
const UNREACHABLE_RELOAD_MS = 1000;

const scope = new AsyncLocalStorage();
const realFetch = globalThis.fetch;

/** The tab whose code is running, or null (the test itself). */
const currentTab = () => scope.getStore() ?? null;

/** A promise that never settles: the page that asked is gone, so nothing of it runs any more. */
const never = () => new Promise(() => {});

let installed = false;

/** Routes sync.js's `fetch` and `navigator.locks` to the device of the tab that calls them. */
function install() {
  if (installed) return;
  installed = true;
  globalThis.fetch = (input, init) => {
    const tab = currentTab();
    return tab ? tab.device.fetch(tab, input, init) : realFetch(input, init);
  };
  const locks = {
    request(name, options, callback) {
      const tab = currentTab();
      if (!tab) throw new Error('navigator.locks used outside a tab');
      return tab.device.locks.request(tab, name, options, callback);
    },
    query() {
      const tab = currentTab();
      if (!tab) throw new Error('navigator.locks used outside a tab');
      return tab.device.locks.query();
    },
  };
  // One device's pages talk to each other, not to other devices' pages.
  globalThis.BroadcastChannel = class {
    constructor(name) {
      const tab = currentTab();
      if (!tab) throw new Error('BroadcastChannel used outside a tab');
      this.name = name;
      this.tab = tab;
      this.onmessage = null;
      tab.device.channels.add(this);
    }

    postMessage(data) {
      for (const other of this.tab.device.channels) {
        if (other === this || other.name !== this.name || other.tab.gone) continue;
        const message = structuredClone(data);
        other.tab.within(() => queueMicrotask(() => other.onmessage?.({ data: message })));
      }
    }

    close() {
      this.tab.device.channels.delete(this);
    }
  };
  // A page's timers never keep the simulation's process alive: a page that is gone may leave
  // one pending (the time limit of a request whose answer it will never see), which would hold
  // a test run open for up to 30 s after its last step.
  for (const name of ['setTimeout', 'setInterval']) {
    const real = globalThis[name];
    globalThis[name] = (...args) => {
      const timer = real(...args);
      if (currentTab()) timer.unref?.();
      return timer;
    };
  }
  Object.defineProperty(globalThis, 'navigator', {
    value: { locks, onLine: true },
    configurable: true,
    writable: true,
  });
}

/**
 * The answer of `httpFetch`: what the page modules read of a `Response` (status, ok, headers'
 * get and has, json, text, arrayBuffer), with the body already read.
 */
class HttpResponse {
  constructor(status, statusText, headers, body) {
    this.status = status;
    this.statusText = statusText;
    this.ok = status >= 200 && status < 300;
    this.body = body;
    const named = headers;
    this.headers = {
      get: (name) => {
        const value = named[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : String(value);
      },
      has: (name) => named[name.toLowerCase()] !== undefined,
    };
  }

  async text() {
    return this.body.toString('utf8');
  }

  async json() {
    return JSON.parse(this.body.toString('utf8'));
  }

  async arrayBuffer() {
    return this.body.buffer.slice(this.body.byteOffset, this.body.byteOffset + this.body.byteLength);
  }
}

// Idle connections are kept however many there are (Node keeps 256 by default), as each
// browser keeps its own: the long poll's connection carries the page's requests after the end.
const httpAgent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity, scheduling: 'lifo' });
/** What `httpFetch` did: connections opened (a request finding no idle one opens one). */
export const httpStats = { connections: 0 };
const connect = httpAgent.createConnection.bind(httpAgent);
httpAgent.createConnection = (...args) => {
  httpStats.connections += 1;
  return connect(...args);
};

/**
 * A `fetch` on node:http, for many devices in one process (the load simulator): it costs the
 * process a fraction of what Node's own `fetch` (WHATWG streams over undici) does per request,
 * so that the simulator is less often what sets the pace. It fails as `fetch` does (TypeError
 * for no connection, AbortError when its signal aborts) and answers once the whole body is in.
 */
export function httpFetch(input, { method = 'GET', headers = {}, body, signal } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(String(input));
    const sent = { ...headers };
    if (body !== undefined && body !== null) sent['Content-Length'] = Buffer.byteLength(body);
    const req = httpRequest(url, { method, headers: sent, agent: httpAgent, signal }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve(new HttpResponse(res.statusCode, res.statusMessage, res.headers, Buffer.concat(chunks))));
      res.on('error', (error) => reject(new TypeError('fetch failed', { cause: error })));
    });
    req.on('error', (error) => reject(error.name === 'AbortError' ? error : new TypeError('fetch failed', { cause: error })));
    req.end(body ?? undefined);
  });
}

/**
 * The journal (journal.js's Journal: entries, put, remove, forget) of one browser profile, in
 * memory. Entries are copied in and out as IndexedDB does (structured clone when written and
 * read); a write applies at once, a read answers after the current task, like IndexedDB's.
 */
export class MemoryJournal {
  constructor() {
    this.store = new Map();
  }

  entries(token) {
    const prefix = `${token} `;
    const found = [...this.store.values()].filter((e) => e.key.startsWith(prefix)).map((e) => structuredClone(e));
    return new Promise((done) => setImmediate(() => done(found)));
  }

  put(entry) {
    this.store.set(entry.key, structuredClone(entry));
    return Promise.resolve();
  }

  remove(key) {
    this.store.delete(key);
    return Promise.resolve();
  }

  async forget(token) {
    for (const entry of await this.entries(token)) await this.remove(entry.key);
  }

  /** The tab records of a session (not its snapshot). */
  records(token) {
    const prefix = `${token} `;
    return [...this.store.values()].filter((e) => e.key.startsWith(prefix) && e.client);
  }
}

/** What a tab sees of its device's journal: nothing answers any more once the tab is gone. */
class TabJournal {
  constructor(tab) {
    this.tab = tab;
    this.journal = tab.device.journal;
  }

  async entries(token) {
    if (this.tab.gone) return never();
    const found = await this.journal.entries(token);
    return this.tab.gone ? never() : found;
  }

  put(entry, now) {
    return this.tab.gone ? never() : this.journal.put(entry, now);
  }

  remove(key) {
    return this.tab.gone ? never() : this.journal.remove(key);
  }

  forget(token) {
    return this.tab.gone ? never() : this.journal.forget(token);
  }
}

/**
 * The Web Locks of one browser profile, as far as sync.js uses them: exclusive locks asked for
 * with `ifAvailable`, held until the page that holds them is gone; and `query()`.
 */
export class Locks {
  constructor() {
    /** name → the tab holding it */
    this.held = new Map();
    /** name → the pages waiting for it, in order */
    this.waiting = new Map();
  }

  request(tab, name, options, callback) {
    if (typeof options === 'function') [options, callback] = [{}, options];
    if (tab.gone) return never();
    if (this.held.has(name)) {
      if (options?.ifAvailable) return Promise.resolve(callback(null));
      // Waits its turn, as a browser's lock queue does.
      return new Promise((granted) => {
        const queue = this.waiting.get(name) ?? [];
        queue.push({ tab, grant: () => granted(this.grant(tab, name, callback)) });
        this.waiting.set(name, queue);
      });
    }
    return this.grant(tab, name, callback);
  }

  /** Gives `name` to `tab` until its callback's promise settles or the page is gone. */
  grant(tab, name, callback) {
    this.held.set(name, tab);
    tab.lockNames.add(name);
    return Promise.race([Promise.resolve(callback({ name, mode: 'exclusive' })), tab.goneSignal]).finally(() => {
      if (this.held.get(name) === tab) this.free(name);
      tab.lockNames.delete(name);
    });
  }

  /** `name` is free: the next page waiting for it that is not gone gets it. */
  free(name) {
    this.held.delete(name);
    const queue = this.waiting.get(name) ?? [];
    while (queue.length) {
      const next = queue.shift();
      if (!next.tab.gone) {
        next.tab.within(() => next.grant());
        return;
      }
    }
  }

  async query() {
    return { held: [...this.held.keys()].map((name) => ({ name, mode: 'exclusive' })), pending: [] };
  }

  /** Frees every lock of a page that is gone. */
  release(tab) {
    for (const name of tab.lockNames) if (this.held.get(name) === tab) this.free(name);
    tab.lockNames.clear();
  }
}

/** One browser profile on one network connection, against one server. */
export class Device {
  /**
   * @param {string} base the server's URL (http://127.0.0.1:port)
   * @param {{fields: string[], log?: (line: string) => void, http?: typeof fetch}} options
   *   the session's fields the pages show; where to say what happens; what carries the
   *   device's requests (Node's `fetch` unless said: `httpFetch` for thousands of devices)
   */
  constructor(base, { fields, log = () => {}, http = realFetch }) {
    install();
    this.base = base;
    this.fields = fields;
    this.log = log;
    this.http = http;
    this.online = true;
    /** Counts the times the connection dropped: a request in flight across a drop fails. */
    this.drops = 0;
    this.journal = new MemoryJournal();
    this.locks = new Locks();
    /** The BroadcastChannels of its pages. */
    this.channels = new Set();
    /** The tabs open or loading. */
    this.tabs = new Set();
    /** The service worker's copy of each session page: {revision, answers}, by token. */
    this.pageCopies = new Map();
    this.tabCount = 0;
  }

  /** The network as a page's `fetch` sees it. */
  async fetch(tab, input, init = {}) {
    if (tab.gone) return never();
    if (!this.online) throw new TypeError('Failed to fetch (the device is offline)');
    const url = new URL(String(input), this.base);
    const drops = this.drops;
    const { method, headers, body, signal, keepalive } = init;
    let response;
    try {
      response = await this.http(url, { method, headers, body, signal });
    } catch (error) {
      if (tab.gone && !keepalive) return never();
      throw error;
    }
    // A request that outlives its page (keepalive) still reaches the server; its answer
    // reaches nobody.
    if (tab.gone) return never();
    if (this.drops !== drops) throw new TypeError('Failed to fetch (the connection dropped)');
    return response;
  }

  goOffline() {
    if (!this.online) return;
    this.online = false;
    this.drops += 1;
    this.log('device offline');
  }

  /** Back online: each open page hears the `online` event. */
  goOnline() {
    if (this.online) return;
    this.online = true;
    this.log('device online');
    for (const tab of this.tabs) tab.online();
  }

  /** Opens a new tab on a session page; resolves once the page has loaded (or shows maintenance). */
  async open(token, hooks = {}) {
    this.tabCount += 1;
    const tab = new Tab(this, token, `t${this.tabCount}`, hooks);
    this.tabs.add(tab);
    await tab.load();
    return tab;
  }

  /** The open tabs whose form is showing. */
  ready() {
    return [...this.tabs].filter((t) => t.state === 'open');
  }
}

/**
 * One page of a session, as holdfast.js runs it. `values` is what its fields show.
 * States: 'loading', 'maintenance' (the maintenance page: it checks until the service is back,
 * then loads the form), 'unreachable' (no connection and no copy of the page), 'open', 'gone'.
 */
export class Tab {
  constructor(device, token, name, hooks) {
    this.device = device;
    this.token = token;
    this.name = name;
    /** {submitted(tab)} */
    this.hooks = hooks;
    this.state = 'loading';
    this.gone = false;
    this.goneSignal = new Promise((done) => {
      this.markGone = done;
    });
    this.lockNames = new Set();
    this.values = {};
    this.known = { revision: 0, answers: {} };
    this.visible = true;
    this.autosave = null;
    this.timers = [];
    this.lastRefresh = 0;
    this.refreshLater = 0;
    this.submitted = false;
  }

  /** Runs `fn` as this page's code (its fetches, locks and timers are this page's). */
  within(fn) {
    return scope.run(this, fn);
  }

  log(line) {
    this.device.log(`${this.name}: ${line}`);
  }

  /** Loads the page: the server's answers (or the service worker's copy), then the script. */
  async load() {
    const page = await this.within(() => this.fetchPage());
    if (this.gone) return;
    if (page === 'maintenance') {
      this.state = page;
      this.log(`shows the maintenance page (Retry-After ${this.retryAfter})`);
      this.within(() => this.waitOnMaintenancePage());
      return;
    }
    if (page === 'unreachable') {
      this.state = page;
      this.log('shows no page (offline, no copy)');
      this.within(() => {
        const poll = setInterval(async () => {
          if (this.gone || this.state !== page || this.checking) return;
          this.checking = true;
          try {
            await this.load();
          } finally {
            this.checking = false;
          }
        }, UNREACHABLE_RELOAD_MS);
        this.timers.push(poll);
      });
      return;
    }
    this.clearTimers();
    await this.within(() => this.start(page));
  }

  /**
   * The maintenance page: maintenance.js's own `waitForService` runs, with this device's
   * network, Web Locks and BroadcastChannel (so it shares the long poll with the device's form
   * pages as in a browser); when it finds the service back, the page reloads (`location.reload()`
   * in a browser) and the form loads.
   */
  waitOnMaintenancePage() {
    const back = () => {
      if (this.gone || this.state !== 'maintenance') return;
      this.log('the maintenance page finds the service back: reloads');
      this.within(() => this.load()).catch((error) => this.log(`reload failed: ${error.message}`));
    };
    waitForService(`/s/${encodeURIComponent(this.token)}`, this.retryAfter, back, this.browser());
  }

  /**
   * What a page's script reaches of the browser as maintenance.js's `env`: this tab's `fetch`
   * (bodies read, as a browser reads a page it loads, so that no connection stays held),
   * `navigator.locks` and `BroadcastChannel`. Used within the tab's scope.
   */
  browser() {
    const tab = this;
    const { device } = this;
    return {
      async fetch(input, init) {
        const response = await device.fetch(tab, input, init);
        if (response instanceof HttpResponse) return response;
        const body = await response.arrayBuffer();
        if (tab.gone) return never();
        const empty = [204, 205, 304].includes(response.status);
        return new Response(empty ? null : body, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      },
      navigator: {
        locks: {
          request: (name, options, callback) => device.locks.request(tab, name, options, callback),
          query: () => device.locks.query(),
        },
      },
      // The installed one: it joins the device of the tab in whose scope it is made.
      BroadcastChannel: globalThis.BroadcastChannel,
      random: Math.random,
    };
  }

  /** The page as the browser gets it: {revision, answers}, 'maintenance' or 'unreachable'. */
  async fetchPage() {
    try {
      const response = await fetch(`/api/v1/sessions/${encodeURIComponent(this.token)}`, { method: 'GET' });
      if (response.status === 503) {
        // The maintenance page starts from the Retry-After it was served with.
        this.retryAfter = response.headers.get('Retry-After');
        await response.arrayBuffer().catch(() => {});
        return 'maintenance';
      }
      if (response.status === 200) {
        const json = await response.json();
        const page = { revision: json.revision, answers: json.answers ?? {} };
        this.device.pageCopies.set(this.token, page);
        return page;
      }
      if (response.status !== 502 && response.status !== 504) throw new Error(`the page answered ${response.status}`);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
    // The server cannot be reached: the service worker's copy, if it has one.
    return structuredClone(this.device.pageCopies.get(this.token)) ?? 'unreachable';
  }

  /** holdfast.js's startForm, without the DOM. */
  async start(page) {
    const token = this.token;
    const journal = new TabJournal(this);
    this.journal = journal;
    const client = await claimClient();
    if (this.gone) return;
    this.known = page;
    const snapshot = (await journal.entries(token)).find((e) => e.key === snapshotKey(token));
    const newerSnapshot = snapshot && snapshot.revision > this.known.revision;
    if (newerSnapshot) this.known = { revision: snapshot.revision, answers: snapshot.answers ?? {} };
    for (const id of this.device.fields) this.values[id] = this.known.answers[id] ?? null;

    const adopt = (answers, revision) => {
      if (typeof revision !== 'number' || revision < this.known.revision) return;
      this.known = { revision, answers };
      journal.put({ key: snapshotKey(token), token, revision, answers, v: revision });
      const own = this.autosave ?? created;
      for (const id of this.device.fields) {
        if (own.edited(id)) continue;
        this.values[id] = answers[id] ?? null;
      }
    };
    const created = new Autosave(token, client, journal, {
      answers: adopt,
      changed: () => {},
      held: () => {},
      submitted: () => {
        this.submitted = true;
        this.hooks.submitted?.(this);
      },
    });
    this.client = client.id;
    created.seen(this.known.revision);
    await created.restore();
    if (this.gone) return;
    const local = created.localAnswers();
    for (const id of this.device.fields) if (id in local) this.values[id] = local[id];
    this.autosave = created;
    this.state = 'open';
    this.log(`loaded at revision ${this.known.revision} as client ${client.id.slice(0, 8)}`);

    this.timers.push(
      setInterval(() => {
        if (this.visible) this.refresh();
      }, REFRESH_MS),
      setInterval(() => created.sweep(), SWEEP_MS),
    );
    this.refresh();
    if (created.unsaved()) created.flush();
  }

  /** holdfast.js's refresh: asks the server, at most once every 2 s (then once more later). */
  refresh() {
    const wait = this.lastRefresh + MIN_REFRESH_GAP_MS - Date.now();
    if (wait > 0) {
      this.refreshLater ||= setTimeout(() => {
        this.refreshLater = 0;
        this.refresh();
      }, wait);
      return;
    }
    this.lastRefresh = Date.now();
    this.autosave.refresh();
  }

  /** The newest value of a field this tab knows of: its own unsaved change, or the server's. */
  latest(field) {
    const local = this.autosave.localAnswers();
    return field in local ? local[field] : this.known.answers[field];
  }

  /** The person types `value` into `field` (shown first if the tab was hidden). */
  type(field, value) {
    this.requireOpen();
    this.show();
    this.values[field] = value;
    this.within(() => {
      if (value !== this.latest(field)) this.autosave.edit(field, value);
    });
  }

  /** The field loses focus. */
  blur() {
    this.requireOpen();
    this.within(() => this.autosave.soon());
  }

  /** The page is hidden (another tab, the phone locked): its changes go with keepalive. */
  hide() {
    this.requireOpen();
    if (!this.visible) return;
    this.visible = false;
    this.within(() => this.autosave.leave());
  }

  /** The page is shown again. */
  show() {
    if (this.visible || this.state !== 'open') return;
    this.visible = true;
    this.within(() => this.refresh());
  }

  /** The window gains focus (the person clicks into it): the page asks the server. */
  focus() {
    if (this.state !== 'open') return;
    this.show();
    this.within(() => this.refresh());
  }

  /** The browser is back online: the page's `online` handler. */
  online() {
    if (this.state !== 'open') return;
    this.within(() => {
      this.autosave.flush();
      this.lastRefresh = 0;
      this.refresh();
    });
  }

  /**
   * The person resolves a held conflict: keep their value ('keep') or take the other one
   * ('letGo', which the field then shows), as the two buttons do.
   */
  choose(field, keep) {
    this.requireOpen();
    this.within(() => {
      if (keep) {
        this.autosave.keep(field);
      } else {
        const theirs = this.autosave.held[field]?.theirs ?? null;
        this.autosave.letGo(field);
        this.values[field] = theirs;
      }
    });
  }

  /** The held changes of this tab: {field: {kind, yours, theirs|message}}. */
  held() {
    return this.autosave ? structuredClone(this.autosave.held) : {};
  }

  /** Closed by the person: the page's last save runs (pagehide), then the page is gone. */
  close() {
    if (this.state === 'open' && this.visible) this.within(() => this.autosave.leave());
    this.end('closed');
  }

  /** The browser process dies: nothing runs; the page is gone. */
  crash() {
    this.end('crashed');
  }

  /** Reloaded: the page's last save runs, it is gone, and a new page of the session loads. */
  async reload() {
    this.close();
    return this.device.open(this.token, this.hooks);
  }

  end(how) {
    if (this.gone) return;
    this.log(how);
    this.gone = true;
    this.state = 'gone';
    this.clearTimers();
    // Stops like sync.js's stop(), without telling the page it was submitted.
    this.autosave?.close();
    clearTimeout(this.refreshLater);
    this.device.locks.release(this);
    this.markGone();
    this.device.tabs.delete(this);
  }

  clearTimers() {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  requireOpen() {
    if (this.state !== 'open') throw new Error(`${this.name} is ${this.state}, not open`);
  }

  /** What this tab is at, for a failure's report. */
  describe() {
    const a = this.autosave;
    return {
      tab: this.name,
      state: this.state,
      client: this.client,
      visible: this.visible,
      values: this.values,
      known: this.known,
      saveState: a?.state(),
      pending: a?.pending,
      queue: a?.queue,
      held: a?.held,
      elsewhere: a?.elsewhere,
      base: a?.base,
    };
  }
}

/** Node's own `fetch`, as it was before the harness routed the global one to devices. */
export { realFetch as nodeFetch, recordKey };
