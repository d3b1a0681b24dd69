// The size budget of a form page: all its JavaScript and CSS together, gzipped, at most 30 KB.
// Measured over what a step page loads (the assets its templates name, the modules the entry
// script imports, directly or not) plus the service worker, each gzipped on its own as a server
// would send it. A budget, not a timing: no server or browser is needed.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';

import { ROOT } from './support.js';

const SERVER = join(ROOT, 'crates/server');
const BUDGET_BYTES = 30 * 1024;

/** The asset files a step page loads, and the service worker. */
async function formPageAssets() {
  const files = new Set();
  const visit = async (name) => {
    if (files.has(name)) return;
    files.add(name);
    if (!name.endsWith('.js')) return;
    const source = await readFile(join(SERVER, 'assets', name), 'utf8');
    for (const [, imported] of source.matchAll(/(?:from|import) '\.\/([\w-]+\.js)'/g)) await visit(imported);
  };
  for (const template of ['layout.html', 'step.html', 'maintenance_banner.html']) {
    const html = await readFile(join(SERVER, 'templates', template), 'utf8').catch(() => '');
    // "/assets/{{ crate::assets::version() }}/holdfast.js": the version is the server's.
    for (const [, name] of html.matchAll(/(?:src|href)="\/assets\/(?:\{\{[^}]*\}\}\/)?([\w.-]+)"/g)) await visit(name);
  }
  await visit('sw.js');
  return [...files].sort();
}

test('all JS and CSS of a form page is at most 30 KB gzipped', async () => {
  const files = await formPageAssets();
  assert.ok(files.includes('holdfast.js') && files.includes('holdfast.css'), files.join(', '));
  let total = 0;
  let raw = 0;
  for (const name of files) {
    const bytes = await readFile(join(SERVER, 'assets', name));
    const gzipped = gzipSync(bytes, { level: 9 }).length;
    console.log(`${name}: ${bytes.length} bytes, ${gzipped} gzipped`);
    total += gzipped;
    raw += bytes.length;
  }
  console.log(`total: ${raw} bytes, ${total} bytes gzipped (budget ${BUDGET_BYTES})`);
  assert.ok(total <= BUDGET_BYTES, `${total} bytes gzipped is over the budget of ${BUDGET_BYTES}`);
});

test('the service worker keeps every script and stylesheet a form page loads', async () => {
  const worker = await readFile(join(SERVER, 'assets', 'sw.js'), 'utf8');
  // The names it keeps of its version: const ASSETS = ['holdfast.css', …];
  const kept = /const ASSETS = \[([^\]]*)\]/.exec(worker)?.[1] ?? '';
  for (const name of await formPageAssets()) {
    if (name === 'sw.js') continue;
    assert.ok(kept.includes(`'${name}'`), `sw.js does not keep ${name}`);
  }
});
