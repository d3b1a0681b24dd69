// A real HTTP proxy in front of a test's server, to play the network between a browser and
// Holdfast: slow, out of order, a gateway's error page, a server that accepts a request and
// never answers, a server that is gone. Pages are opened through the proxy's URL, so it is
// their origin (the service worker registers there too); the operator's CLI and the test's own
// look-ups keep talking to the server directly.
//
//   const proxy = await Proxy.start(server.url);
//   await page.goto(`${proxy.url}/p/demo/motor-claim`);
//   proxy.rule({ method: 'PATCH', path: /^\/api\/v1\/sessions\//, status: 403, body: '<h1>Forbidden</h1>' });
//   proxy.rule({ hang: true });           // every request: accepted, never answered
//   proxy.rule({ path: '/sw.js', delay: 2000 });
//   proxy.jitter(0, 300);                 // each request waits 0-300 ms: they overtake each other
//   proxy.refuse();                       // the server is gone: open connections and new ones are closed
//   proxy.clear();                        // pass everything through again
//   await proxy.stop();
//
// rule({method, path, ...action}) applies to the requests matching both (each optional: any
// method, any path). `path` is a string (the path without the query, exactly) or a RegExp (tested
// against the path with its query). The first matching rule, in the order added, decides:
//   status (with optional body, headers)  answer that instead of the server, e.g. 502 or 403;
//   hang: true                            keep the request open and never answer;
//   delay: ms                             wait, then pass it through;
//   forward: true (with status or hang)   pass it to the server first and throw its answer
//                                         away: the server did the work, the answer is lost.
// rule() returns the rule: `rule.hits` counts the requests it decided, `rule.remove()` drops it.
// Requests no rule decides wait the jitter, if any, and pass through. When the server cannot
// be reached the proxy answers 502 with an HTML page, as a gateway would.
//
// `proxy.refused` counts the connections closed by refuse(); `proxy.requests` is every request
// seen, as "METHOD /path?query". clear() drops the rules, the jitter and the refusal, but leaves
// requests already hanging as they are (the client gives up on them; stop() closes them).
//
// Only node:http; no dependency.

import http from 'node:http';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade',
]);

function endToEnd(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

const wait = (ms) => new Promise((done) => setTimeout(done, ms));

export class Proxy {
  /** Starts a proxy for `target` (e.g. "http://127.0.0.1:8080") on a free port of 127.0.0.1. */
  static async start(target) {
    const proxy = new Proxy(new URL(target));
    await new Promise((done, fail) => {
      proxy.server.once('error', fail);
      proxy.server.listen(0, '127.0.0.1', done);
    });
    proxy.url = `http://127.0.0.1:${proxy.server.address().port}`;
    return proxy;
  }

  constructor(target) {
    this.target = target;
    this.rules = [];
    this.spread = null;
    this.refusing = false;
    this.refused = 0;
    this.requests = [];
    this.sockets = new Set();
    this.agent = new http.Agent({ keepAlive: true });
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      if (this.refusing) {
        this.refused += 1;
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Adds a rule (see the top of this file); returns it, with `hits` and `remove()`. */
  rule({ method, path, ...action }) {
    const rule = {
      method: method?.toUpperCase(),
      path,
      action,
      hits: 0,
      remove: () => {
        this.rules = this.rules.filter((r) => r !== rule);
      },
    };
    this.rules.push(rule);
    return rule;
  }

  /** Delays each request not decided by a rule by a random time in [minMs, maxMs]. */
  jitter(minMs, maxMs = minMs) {
    this.spread = [minMs, maxMs];
  }

  /**
   * The server is gone: closes every open connection (keep-alive and hanging ones too) and every
   * new one at once, until clear() or refuse(false).
   */
  refuse(on = true) {
    this.refusing = on;
    if (!on) return;
    for (const socket of this.sockets) {
      this.refused += 1;
      socket.destroy();
    }
  }

  /** Passes everything through again. */
  clear() {
    this.rules = [];
    this.spread = null;
    this.refusing = false;
  }

  async stop() {
    this.clear();
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    await new Promise((done) => this.server.close(done));
  }

  matching(req) {
    const pathname = req.url.split('?')[0];
    return this.rules.find(
      (r) =>
        (!r.method || r.method === req.method) &&
        (r.path === undefined ||
          (r.path instanceof RegExp ? r.path.test(req.url) : r.path === pathname)),
    );
  }

  async handle(req, res) {
    this.requests.push(`${req.method} ${req.url}`);
    const rule = this.matching(req);
    if (rule) rule.hits += 1;
    const action = rule?.action ?? {};
    if (action.delay) await wait(action.delay);
    else if (!rule && this.spread) {
      const [min, max] = this.spread;
      await wait(min + Math.random() * (max - min));
    }
    const decides = action.hang || action.status;
    if (decides && !action.forward) {
      req.resume();
      if (!action.hang) answer(res, action);
      return;
    }
    const upstream = http.request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: endToEnd(req.headers),
        agent: this.agent,
      },
      (response) => {
        if (decides) {
          // The server has done the work; its answer is lost on the way back.
          response.resume();
          if (!action.hang) answer(res, action);
          return;
        }
        res.writeHead(response.statusCode, endToEnd(response.headers));
        response.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      answer(res, {
        status: 502,
        headers: { 'Content-Type': 'text/html; charset=utf-8' },
        body: '<!doctype html><title>502 Bad Gateway</title><h1>502 Bad Gateway</h1>',
      });
    });
    req.pipe(upstream);
  }
}

function answer(res, { status, headers = {}, body = '' }) {
  if (res.destroyed) return;
  const type = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
    ? {}
    : { 'Content-Type': 'text/html; charset=utf-8' };
  res.writeHead(status, { ...type, ...headers });
  res.end(body);
}
