// What the browser tests share: the real server binary (server.js: started, killed with
// SIGKILL, restarted on the same port and data), Debian's Chromium through playwright-core, a
// person's view of a page, and the operator's export.
//
// Each test runs on SQLite, and on PostgreSQL too when HOLDFAST_TEST_POSTGRES_URL is set.

import { chromium } from 'playwright-core';

import { eventually } from './server.js';

export { ROOT, Server, backends, eventually, sleep } from './server.js';

/** Debian's Chromium (or another one named by $CHROMIUM). */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Flags for a headless Chromium in a container: no sandbox, GPU or background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium, headless. */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Yesterday as YYYY-MM-DD (the demo's incident date may not be in the future). */
export function yesterday() {
  const d = new Date(Date.now() - 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A person looking at a page: finds things by their role and label, as they would. */
export class Person {
  constructor(page) {
    this.page = page;
  }

  heading() {
    return this.page.getByRole('heading', { level: 1 }).textContent();
  }

  async seesHeading(text, timeout = 15000) {
    await eventually(`the heading "${text}"`, async () => (await this.heading()).trim() === text, timeout);
  }

  status() {
    return this.page.getByRole('status');
  }

  async statusText() {
    return (await this.status().textContent()).trim();
  }

  /** Waits for the save state to read exactly "Saved". */
  async seesSaved(timeout = 15000) {
    await eventually('the status "Saved"', async () => (await this.statusText()) === 'Saved', timeout);
  }

  /** Waits for the save state to say the answers are kept on this device. */
  async seesKeptOnDevice(timeout = 15000) {
    return eventually(
      'the status "kept on this device"',
      async () => /kept on this device/.test(await this.statusText()) && this.statusText(),
      timeout,
    );
  }

  async alertText() {
    const alert = this.page.getByRole('alert');
    await alert.waitFor({ state: 'visible', timeout: 15000 });
    return (await alert.textContent()).trim();
  }

  press(name) {
    return this.page.getByRole('button', { name, exact: true }).click();
  }

  field(label) {
    return this.page.getByLabel(label, { exact: true });
  }

  fill(label, text) {
    return this.field(label).fill(text);
  }

  value(label) {
    return this.field(label).inputValue();
  }

  /** Waits for a field to show `expected` (the page script may still be filling it in). */
  async seesValue(label, expected) {
    await eventually(`"${label}" to show ${JSON.stringify(expected)}`, async () => (await this.value(label)) === expected);
  }

  /** Waits for a checkbox or radio (by its label, within the group if given) to be ticked or not. */
  async seesTicked(label, ticked = true, group = null) {
    const box = group ? this.option(group, label) : this.field(label);
    await eventually(`"${label}" to be ${ticked ? '' : 'un'}ticked`, async () => (await box.isChecked()) === ticked);
  }

  option(group, label) {
    return this.page.getByRole('group', { name: group }).getByLabel(label, { exact: true });
  }

  choose(group, label) {
    return this.option(group, label).check();
  }

  /** The session token of the page (its resume link's last part). */
  token() {
    return new URL(this.page.url()).pathname.split('/').pop();
  }

  /**
   * Waits until the service worker keeps a copy of this page showing `heading`, so that a
   * reload works while the server is down.
   */
  async pageKeptWith(heading) {
    await eventually(`the service worker's copy of "${heading}"`, () =>
      this.page.evaluate(async (wanted) => {
        if (!navigator.serviceWorker?.controller) return false;
        const copy = await caches.match(location.pathname);
        return Boolean(copy) && (await copy.text()).includes(`<h1>${wanted}</h1>`);
      }, heading),
    );
  }
}
