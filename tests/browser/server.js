// The real server binary for tests that drive it from Node: `holdfast serve --demo` started,
// killed with SIGKILL and restarted on the same port and data; the operator's CLI; and two
// small waiting helpers. No dependencies beyond Node's standard library, so that suites
// without a browser (tests/sim) can use it too.
//
// The server is target/debug/holdfast (built by `cargo build -p holdfast` before the tests), or
// the binary named by $HOLDFAST_BIN. A test runs on SQLite, and on PostgreSQL too when
// HOLDFAST_TEST_POSTGRES_URL is set (a fresh database per server, named holdfast_t… so that
// scripts/test.sh drops it afterwards).

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.HOLDFAST_BIN ?? join(ROOT, 'target/debug/holdfast');

/** The backends to run on: SQLite always, PostgreSQL when the test script provides one. */
export function backends() {
  const list = ['sqlite'];
  if (process.env.HOLDFAST_TEST_POSTGRES_URL) list.push('postgres');
  return list;
}

async function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

async function createDatabase(adminUrl) {
  const admin = new URL(adminUrl);
  const name = `holdfast_tbrowser_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await run('psql', [admin.href, '-qAtc', `create database "${name}"`]);
  const url = new URL(admin.href);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => run('psql', [admin.href, '-qc', `drop database if exists "${name}" with (force)`]) };
}

/** A running `holdfast serve --demo` that a test can kill and bring back. */
export class Server {
  /**
   * `binary`: another build than $HOLDFAST_BIN or the debug one (the load simulator runs the
   * release build); `postgres`: the server on which a fresh database is made for it.
   */
  static async start(backend, { binary = BIN, postgres = process.env.HOLDFAST_TEST_POSTGRES_URL } = {}) {
    const server = new Server();
    server.bin = binary;
    server.data = await mkdtemp(join(tmpdir(), 'holdfast-browser-'));
    server.port = await freePort();
    server.url = `http://127.0.0.1:${server.port}`;
    if (backend === 'postgres') server.database = await createDatabase(postgres);
    await server.restart();
    return server;
  }

  /** Starts (again) on the same port, data directory and database. */
  async restart() {
    const args = ['serve', '--data', this.data, '--listen', `127.0.0.1:${this.port}`, '--demo'];
    if (this.database) args.push('--database', this.database.url);
    this.log = '';
    this.child = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => (this.log += d));
    this.child.stderr.on('data', (d) => (this.log += d));
    const exited = new Promise((done) => this.child.once('exit', done));
    const deadline = Date.now() + 20000;
    for (;;) {
      const status = await Promise.race([
        fetch(`${this.url}/healthz`).then((r) => r.status, () => 0),
        exited.then(() => -1),
      ]);
      if (status === 200) return;
      if (status === -1 || Date.now() > deadline) {
        throw new Error(`the server did not start (${this.bin}):\n${this.log}`);
      }
      await sleep(100);
    }
  }

  /** Kills the server outright (SIGKILL), as a crash would. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * The operator running the CLI against this server (`holdfast ARGS --server … --token-file
   * DATA/admin-token`); resolves to its standard output, fails with its error output.
   */
  async operator(...args) {
    const { stdout } = await run(this.bin, [
      ...args, '--server', this.url, '--token-file', join(this.data, 'admin-token'),
    ]);
    return stdout;
  }

  /** The operator's export of the demo claim (`holdfast submissions export`), one object each. */
  async exportSubmissions() {
    const stdout = await this.operator('submissions', 'export', '--org', 'demo', '--process', 'motor-claim');
    return stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  }

  /** What the server holds of a session (the session API). */
  async session(token) {
    const response = await fetch(`${this.url}/api/v1/sessions/${token}`);
    return response.json();
  }

  async stop() {
    await this.kill();
    await this.database?.drop().catch(() => {});
    await rm(this.data, { recursive: true, force: true });
  }
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Waits until `check()` returns something truthy (and returns it), or fails saying `what`. */
export async function eventually(what, check, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(100);
  }
}
