// Holdfast's page script: the entry point, loaded as a module by the step and confirmation
// pages. It connects the step form (form.js), autosave (sync.js), the journal on this device
// (journal.js), what the person is told (status.js) and "Continue later" (resume.js); and
// registers the service worker (/sw.js) that shows the page while the server cannot be
// reached. Without it the pages work as plain HTML forms.

import { openJournal, snapshotKey } from './journal.js';
import { Autosave, claimClient } from './sync.js';
import { fieldIds, read, same, showVisible, watchAnswers, write } from './form.js';
import { refusedText, showAlert, showStatus } from './status.js';
import { setUpResume } from './resume.js';

/** How often a visible page asks the server for changes made elsewhere (another tab). */
const REFRESH_MS = 15000;
const MIN_REFRESH_GAP_MS = 2000;

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
  navigator.serviceWorker
    .register('/sw.js', { scope: '/' })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      // This load did not pass through the worker: ask it to keep this page now.
      if (!passedThrough) registration.active?.postMessage({ keep: location.pathname });
    })
    .catch((error) => console.warn('Holdfast: no service worker, so no copy of the page:', error));
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
  const snapshot = (await journal.entries(token)).find((e) => e.key === snapshotKey(token));
  const newerSnapshot = snapshot && snapshot.revision > known.revision;
  if (newerSnapshot) known = { revision: snapshot.revision, answers: snapshot.answers ?? {} };

  const ids = fieldIds(form);
  // What was typed before this script ran differs from what the page was drawn with.
  for (const id of ids) {
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
    journal.put({ key: snapshotKey(token), token, revision, answers, v: revision });
    for (const id of ids) {
      if (autosave.edited(id)) continue;
      const here = read(form, id, typeOf(id));
      if (here !== undefined && !same(here, answers[id])) write(form, id, typeOf(id), answers[id] ?? null);
    }
  };

  const created = new Autosave(token, client, journal, {
    answers: adopt,
    changed: update,
    // Submitted (maybe in another tab): the reload shows the confirmation.
    submitted: () => journal.forget(token).finally(() => location.reload()),
  });
  await created.restore();

  // Show what this device kept: the newer snapshot, then every unsaved change (but not over
  // what was typed meanwhile).
  const shown = ids.filter((id) => !early.has(id));
  if (newerSnapshot) {
    for (const id of shown) write(form, id, typeOf(id), known.answers[id] ?? null);
  }
  const local = created.localAnswers();
  for (const id of shown) if (id in local) write(form, id, typeOf(id), local[id]);
  autosave = created;
  for (const id of early) {
    const value = read(form, id, typeOf(id));
    if (value !== undefined) autosave.edit(id, value);
  }
  update();

  // Back, Next and Submit first make sure the server holds everything; while it cannot be
  // reached they are refused here, and the form stays as it is.
  let busy = false;
  let passing = false;
  form.addEventListener('submit', async (event) => {
    if (passing) return;
    event.preventDefault();
    if (busy) return;
    busy = true;
    const button = event.submitter;
    for (const id of ids) {
      const value = read(form, id, typeOf(id));
      if (value !== undefined && !same(value, latest(id))) autosave.edit(id, value);
    }
    const saved = await autosave.flush();
    // Leave this event's dispatch before submitting again: a submission requested while the
    // form is still firing its submit event is ignored.
    await new Promise((resolve) => setTimeout(resolve, 0));
    busy = false;
    if (!saved) {
      if (autosave.stopped) return;
      document.getElementById('error-summary')?.setAttribute('hidden', '');
      showAlert(alertEl, refusedText(button?.value === 'submit' ? 'submit' : 'move', journal.mode));
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
  if (submitted?.dataset.token) (await openJournal()).forget(submitted.dataset.token);
}

start().catch((error) => console.error('Holdfast page script:', error));
