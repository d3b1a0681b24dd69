// A tab closed, or the whole browser crashing, while the server is down: what was typed is in
// the journal on the device; the next visit shows it, sends it once the server is back, and
// the server ends up holding it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, Person, Server, backends, eventually, launchBrowser } from './support.js';

const run = promisify(execFile);

/** Starts the demo claim in `context` and types step 1's name while the server is up. */
async function startClaim(context, server) {
  const person = new Person(await context.newPage());
  await person.page.goto(`${server.url}/p/demo/motor-claim`);
  await person.press('Start');
  await person.seesHeading('About you');
  await person.fill('Full name', 'Mary Jackson');
  await person.seesSaved();
  await person.pageKeptWith('About you');
  return person;
}

/** Types the rest of step 1 while the server is down. */
async function typeWhileDown(person) {
  await person.fill('Email address', 'mary@example.org');
  await person.fill('Phone number', '+1 757 555 0100');
  await person.seesKeptOnDevice();
}

/** The next visit shows everything, and saves it once the server is back. */
async function nextVisitSavesEverything(person, server) {
  await person.seesHeading('About you');
  await person.seesValue('Full name', 'Mary Jackson');
  await person.seesValue('Email address', 'mary@example.org');
  await person.seesValue('Phone number', '+1 757 555 0100');
  await person.seesKeptOnDevice();
  await server.restart();
  await person.seesSaved(30000);
  const held = await server.session(person.token());
  assert.equal(held.answers.email, 'mary@example.org');
  assert.equal(held.answers.phone, '+1 757 555 0100');
}

for (const backend of backends()) {
  test(`${backend}: a tab closed while the server is down loses nothing`, async () => {
    const server = await Server.start(backend);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const person = await startClaim(context, server);
      const link = person.page.url();
      await server.kill();
      await typeWhileDown(person);
      await person.page.close();

      // A new tab (a new client id): it takes up what the closed tab left in the journal.
      const again = new Person(await context.newPage());
      await again.page.goto(link);
      await nextVisitSavesEverything(again, server);
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test(`${backend}: a browser that crashes while the server is down loses nothing`, async () => {
    const server = await Server.start(backend);
    const profile = await mkdtemp(join(tmpdir(), 'holdfast-profile-'));
    const launch = () =>
      chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    let context = await launch();
    try {
      const person = await startClaim(context, server);
      const link = person.page.url();
      await server.kill();
      await typeWhileDown(person);
      // Let the journal's last write reach the disk's cache, as it would before a crash that
      // comes a moment later; then kill every Chromium process of this profile.
      await person.page.waitForTimeout(300);
      await killChromium(profile);
      await eventually('Chromium to be gone', async () => !(await chromiumRunning(profile)));
      await context.close().catch(() => {});

      context = await launch();
      const again = new Person(context.pages()[0] ?? (await context.newPage()));
      await again.page.goto(link);
      await nextVisitSavesEverything(again, server);
    } finally {
      await context.close().catch(() => {});
      await server.stop();
      await rm(profile, { recursive: true, force: true });
    }
  });
}

async function chromiumPids(profile) {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(`--user-data-dir=${profile}`))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
    .filter((pid) => pid && pid !== process.pid);
}

async function chromiumRunning(profile) {
  return (await chromiumPids(profile)).length > 0;
}

/** SIGKILL to the Chromium processes this test started (found by their own profile dir). */
async function killChromium(profile) {
  for (const pid of await chromiumPids(profile)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
