// Holdfast's page script: the entry point, loaded as a module by the step and confirmation
// pages. It connects the step form (form.js), autosave (sync.js), the journal on this device
// (journal.js), what the person is told (status.js) and "Continue later" (resume.js); and
// registers the service worker (/sw.js) that shows the page while the server cannot be
// reached. Without it the pages work as plain HTML forms.

import { openJournal, snapshotKey } from './journal.js';
import { Autosave, claimClient } from './sync.js';
import { fieldIds, read, same, showVisible, watchAnswers, write } from './form.js';
import { HELD_TEXT, REFUSED_TEXT, refusedText, showAlert, showStatus } from './status.js';
import { setUpResume } from './resume.js';

/** How often a visible page asks the server for changes made elsewhere (another tab). */
const REFRESH_MS = 15000;
const MIN_REFRESH_GAP_MS = 2000;
/** How often the journal is looked at for tabs that closed with changes unsent. */
const SWEEP_MS = 2000;
/**
 * How long Back, Next and Submit wait for the server to answer before they are refused: a
 * server that is alive but does not answer must not make the buttons look dead.
 */
const STEP_WAIT_MS = 4000;

function parse(text, fallback) {
  try {
    return JSON.parse(text) ?? fallback;
  } catch {
    return fallback;
  }
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const passedThrough = Boolean(navigator.serviceWorker.controller);
  // The worker of this version of the assets (/assets/{version}/holdfast.js) keeps them.
  const version = /\/assets\/([0-9a-f]+)\//.exec(import.meta.url)?.[1];
  navigator.serviceWorker
    .register(version ? `/sw.js?v=${version}` : '/sw.js', { scope: '/' })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      // This load did not pass through the worker: ask it to keep this page now.
      if (!passedThrough) registration.active?.postMessage({ keep: location.pathname });
    })
    .catch((error) => console.warn('Holdfast: no service worker, so no copy of the page:', error));
}

/** An answer as a person reads it in a sentence. */
function shown(value) {
  if (value === null || value === undefined || value === '') return 'an empty answer';
  if (value === true) return '“Yes”';
  if (value === false) return '“No”';
  if (Array.isArray(value)) return value.length ? `“${value.join(', ')}”` : 'an empty answer';
  return `“${value}”`;
}

/**
 * Shows (or removes) what is held at a field: a conflict with the other value and the two
 * choices, or the server's reason for refusing the answer.
 */
function showHeld(form, id, held, choose) {
  const field = form.querySelector(`.field[data-field="${CSS.escape(id)}"]`);
  if (!field) return;
  field.querySelector('.held')?.remove();
  if (!held) return;
  const box = document.createElement('div');
  box.className = 'held';
  box.id = `f-${id}-held`;
  const text = document.createElement('p');
  text.className = 'field-error';
  text.id = `f-${id}-held-text`;
  text.setAttribute('role', 'alert');
  text.textContent =
    held.kind === 'conflict' ? HELD_TEXT.conflict(shown(held.theirs)) : HELD_TEXT.invalid(held.message);
  box.append(text);
  if (held.kind === 'conflict') {
    box.setAttribute('role', 'group');
    box.setAttribute('aria-labelledby', text.id);
    for (const [name, keep] of [
      [HELD_TEXT.keep, true],
      [HELD_TEXT.letGo, false],
    ]) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'secondary';
      button.textContent = name;
      button.addEventListener('click', () => choose(id, keep));
      box.append(button);
    }
  }
  field.append(box);
}

async function startForm(form) {
  const token = form.dataset.token;
  const spec = parse(form.dataset.fields, {});
  const statusEl = document.getElementById('save-status');
  const alertEl = document.getElementById('save-alert');
  const typeOf = (id) => spec[id]?.type;
  let autosave = null;
  // Tell at the field when typed text is cut or a number cannot be read.
  watchAnswers(form, spec);

  // Listen from the start: what is typed while the journal opens is taken up afterwards.
  const early = new Set();
  const changed = (target, now) => {
    const id = target.closest?.('[data-field]')?.dataset.field;
    if (!id) return;
    if (!autosave) {
      early.add(id);
      return;
    }
    const value = read(form, id, typeOf(id));
    if (value !== undefined && !same(value, latest(id))) autosave.edit(id, value);
    if (now) autosave.soon();
  };
  form.addEventListener('input', (event) => changed(event.target, false));
  form.addEventListener('change', (event) => changed(event.target, true));
  form.addEventListener('focusout', () => autosave?.soon());

  const journal = await openJournal();
  // Where this device keeps answers (journal.js `mode`): told in the save state, and shown on
  // the form as data-journal for tests and support.
  form.dataset.journal = journal.mode;
  journal.addEventListener('mode', () => {
    form.dataset.journal = journal.mode;
    if (autosave) update();
  });
  // Whether this page has taken up everything the journal keeps (false while IndexedDB opens).
  let journalTaken = journal.known;
  const client = await claimClient();

  // What the server is known to hold: the page's answers, or the journal's snapshot if newer
  // (the page may be the service worker's older copy).
  const pageAnswers = parse(form.dataset.answers, {});
  let known = { revision: Number(form.dataset.revision) || 0, answers: pageAnswers };
  const revisionInput = form.querySelector('input[name="_revision"]');
  // Fields the page shows with what was posted rather than the stored answer (a refused or
  // conflicting post): not typing. Conflicts the server found in a post are held here too.
  const shownNotStored = new Set(parse(form.dataset.shown, []));
  const postConflicts = parse(form.dataset.conflicts, []);
  // Chromium puts back the values a page had when it is reached again by Back or reloaded:
  // those are not typing (what was typed then is in the journal).
  const navigation = performance.getEntriesByType?.('navigation')?.[0]?.type;
  const restoredByBrowser = navigation === 'back_forward' || navigation === 'reload';
  const snapshot = (await journal.entries(token)).find((e) => e.key === snapshotKey(token));
  const newerSnapshot = snapshot && snapshot.revision > known.revision;
  if (newerSnapshot) known = { revision: snapshot.revision, answers: snapshot.answers ?? {} };

  const ids = fieldIds(form);
  // What was typed before this script ran differs from what the page was drawn with.
  for (const id of ids) {
    if (shownNotStored.has(id) || restoredByBrowser) continue;
    const value = read(form, id, typeOf(id));
    if (value !== undefined && !same(value, pageAnswers[id])) early.add(id);
  }
  /** The newest value of a field this tab knows of: its own unsaved change, or the server's. */
  const latest = (id) => {
    const local = autosave.localAnswers();
    return id in local ? local[id] : known.answers[id];
  };

  const current = () => {
    const answers = { ...known.answers, ...autosave.localAnswers() };
    for (const id of ids) {
      const value = read(form, id, typeOf(id));
      if (value !== undefined) answers[id] = value;
    }
    return answers;
  };
  const update = () => {
    if (!autosave) return;
    // Never "Saved" while the journal may hold answers not read yet (IndexedDB still opening).
    const state = autosave.state();
    showStatus(statusEl, state === 'saved' && !journalTaken ? '' : state, journal.mode);
    if (autosave.state() === 'saved') showAlert(alertEl, '');
    showVisible(form, spec, current());
  };

  // The server's answers win for every field this tab has no unsaved change of.
  const adopt = (answers, revision) => {
    if (typeof revision !== 'number' || revision < known.revision) return;
    known = { revision, answers };
    // A step post is made on what this page has seen.
    if (revisionInput) revisionInput.value = String(revision);
    journal.put({ key: snapshotKey(token), token, revision, answers, v: revision });
    const own = autosave ?? created;
    for (const id of ids) {
      if (own.edited(id)) continue;
      const here = read(form, id, typeOf(id));
      if (here !== undefined && !same(here, answers[id])) write(form, id, typeOf(id), answers[id] ?? null);
    }
  };

  let answered = 0; // how many answers the server has given, to tell that it is there
  const created = new Autosave(token, client, journal, {
    answers: (answers, revision) => {
      answered += 1;
      adopt(answers, revision);
    },
    changed: update,
    held: (id) => {
      if (ids.includes(id)) showHeld(form, id, created.held[id], choose);
    },
    // Submitted (maybe in another tab): the reload shows the confirmation.
    submitted: () => forgetSaved(journal, token).finally(() => location.reload()),
  });
  const choose = (id, keep) => {
    if (keep) {
      created.keep(id);
    } else {
      const theirs = created.held[id]?.theirs ?? null;
      created.letGo(id);
      write(form, id, typeOf(id), theirs);
      update();
    }
    form.querySelector(`[name="${CSS.escape(id)}"]`)?.focus();
  };
  created.seen(known.revision);
  for (const id of postConflicts) {
    if (!ids.includes(id)) continue;
    const yours = read(form, id, typeOf(id));
    if (yours === undefined) continue;
    created.hold(id, { kind: 'conflict', yours, theirs: pageAnswers[id] ?? null });
  }
  await created.restore();

  // Show what this device kept: the newer snapshot, then every unsaved change (but not over
  // what was typed meanwhile).
  const shownIds = ids.filter((id) => !early.has(id) && !shownNotStored.has(id));
  if (newerSnapshot || restoredByBrowser) {
    for (const id of shownIds) write(form, id, typeOf(id), known.answers[id] ?? null);
  }
  const local = created.localAnswers();
  for (const id of shownIds) if (id in local) write(form, id, typeOf(id), local[id]);
  for (const id of Object.keys(created.held)) if (ids.includes(id)) showHeld(form, id, created.held[id], choose);
  autosave = created;
  for (const id of early) {
    const value = read(form, id, typeOf(id));
    if (value !== undefined) autosave.edit(id, value);
  }
  update();

  // Back, Next and Submit first make sure the server holds everything and answers (asked, if
  // nothing was left to save), within STEP_WAIT_MS; while it cannot be reached, or does not
  // answer, they are refused here, and the form stays as it is.
  const serverHolds = async () => {
    const before = answered;
    if (!(await autosave.flush())) return false;
    if (answered === before) await autosave.refresh();
    return answered > before;
  };
  const within = (ms, promise) =>
    Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms, false))]);
  let busy = false;
  let passing = false;
  form.addEventListener('submit', async (event) => {
    if (passing) return;
    event.preventDefault();
    if (busy) return;
    busy = true;
    const button = event.submitter;
    for (const id of ids) {
      if (autosave.held[id]) continue;
      const value = read(form, id, typeOf(id));
      if (value !== undefined && !same(value, latest(id))) autosave.edit(id, value);
    }
    // Changes of tabs that closed are sent first: Submit must not leave them behind.
    await autosave.sweep();
    const saved = await within(STEP_WAIT_MS, serverHolds());
    await autosave.sweep();
    // Leave this event's dispatch before submitting again: a submission requested while the
    // form is still firing its submit event is ignored.
    await new Promise((resolve) => setTimeout(resolve, 0));
    busy = false;
    const conflict = Object.values(autosave.held).some((h) => h.kind === 'conflict');
    const refusal = !saved
      ? refusedText(button?.value === 'submit' ? 'submit' : 'move', journal.mode)
      : conflict
        ? REFUSED_TEXT.conflict
        : autosave.elsewhere
          ? REFUSED_TEXT.elsewhere
          : '';
    if (refusal) {
      if (autosave.stopped) return;
      document.getElementById('error-summary')?.setAttribute('hidden', '');
      showAlert(alertEl, refusal);
      if (conflict) form.querySelector('.held button')?.focus();
      return;
    }
    showAlert(alertEl, '');
    passing = true;
    try {
      if (form.requestSubmit) {
        form.requestSubmit(button ?? undefined);
      } else {
        const action = document.createElement('input');
        action.type = 'hidden';
        action.name = '_action';
        action.value = button?.value ?? 'next';
        form.append(action);
        form.submit();
      }
    } finally {
      passing = false;
    }
  });

  // Save at once when the page is hidden or closed; look for changes made elsewhere when it
  // is shown again, every little while, and when the connection is back.
  let lastRefresh = 0;
  let refreshLater = 0;
  const refresh = () => {
    const wait = lastRefresh + MIN_REFRESH_GAP_MS - Date.now();
    if (wait > 0) {
      // Asked again right after asking: ask once more, a little later.
      refreshLater ||= setTimeout(() => {
        refreshLater = 0;
        refresh();
      }, wait);
      return;
    }
    lastRefresh = Date.now();
    autosave.refresh();
  };
  window.addEventListener('pagehide', () => autosave.leave());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') autosave.leave();
    else refresh();
  });
  window.addEventListener('focus', refresh);
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) {
      autosave.flush();
      refresh();
    }
  });
  window.addEventListener('online', () => {
    autosave.flush();
    lastRefresh = 0;
    refresh();
  });
  setInterval(() => {
    if (document.visibilityState === 'visible') refresh();
  }, REFRESH_MS);
  setInterval(() => autosave.sweep(), SWEEP_MS);

  refresh();
  if (autosave.unsaved()) autosave.flush();

  // IndexedDB opened late: take up and show what it kept (an earlier visit's unsaved answers),
  // over the server's answers but not over what was typed here since.
  if (!journalTaken) {
    journal.ready.then(async () => {
      await autosave.restore();
      journalTaken = true;
      const kept = autosave.localAnswers();
      for (const id of ids) {
        if (id in kept && !same(read(form, id, typeOf(id)), kept[id])) write(form, id, typeOf(id), kept[id]);
      }
      update();
      if (autosave.unsaved()) autosave.flush();
    });
  }
}

/**
 * The session was submitted: forgets what this device kept of it, but for a change that never
 * reached the server (a tab's record with something unsent), which is kept, and reported.
 */
async function forgetSaved(journal, token) {
  for (const entry of await journal.entries(token)) {
    const unsent =
      entry.client &&
      ((entry.batches ?? []).length ||
        Object.keys(entry.pending ?? {}).length ||
        Object.keys(entry.held ?? {}).length);
    if (unsent) console.warn('Holdfast: changes made on this device were not submitted', entry);
    else await journal.remove(entry.key);
  }
}

async function start() {
  registerServiceWorker();
  setUpResume();
  const form = document.getElementById('process-form');
  if (form?.dataset.token) {
    await startForm(form);
    return;
  }
  // The confirmation: nothing is left to save, so forget what this device kept.
  const submitted = document.getElementById('submitted');
  if (submitted?.dataset.token) await forgetSaved(await openJournal(), submitted.dataset.token);
}

start().catch((error) => console.error('Holdfast page script:', error));
