// What the person is told: the save state (role="status", polite) and the error that stops a
// step change or Submit while the server cannot be reached (role="alert").
//
// While the server cannot be reached, the texts say where the answers are: kept on this device
// (the journal in IndexedDB), kept but not safe from a browser crash (localStorage only), or
// not kept at all (nothing can be stored: keep the page open). See journal.js `mode`.
//
// These texts are a public contract (docs/browser.md): tests outside the project wait for the
// exact word "Saved", and match "kept on this device".

/** The save state's text, by state (sync.js `Autosave.state()`), where the device keeps answers. */
export const STATUS_TEXT = {
  saved: 'Saved',
  saving: 'Saving…',
  offline:
    'No connection. Your answers are kept on this device and will be saved when the connection is back.',
  unavailable:
    'The service is briefly unavailable. Your answers are kept on this device and will be saved when the service is back.',
  conflict:
    'Not saved: an answer was changed in another window or on another device. Choose which one to keep.',
  invalid: 'Not saved: an answer was not accepted. See the message at the answer.',
  refused:
    'Not saved: the server refused your answers. They are kept on this device and will be sent again.',
};

/** The texts of the states that depend on the journal's mode, when it is not IndexedDB. */
const KEPT_TEXT = {
  localstorage: {
    offline:
      'No connection. Your answers are kept on this device and will be saved when the connection is back, but the last ones may be lost if the browser crashes before then.',
    unavailable:
      'The service is briefly unavailable. Your answers are kept on this device and will be saved when the service is back, but the last ones may be lost if the browser crashes before then.',
  },
  memory: {
    offline:
      'No connection. Your answers are not saved yet and this browser cannot store them: keep this page open until the connection is back.',
    unavailable:
      'The service is briefly unavailable. Your answers are not saved yet and this browser cannot store them: keep this page open until the service is back.',
  },
};

/** Why a step change or Submit did not happen, by the button pressed. */
export const REFUSED_TEXT = {
  submit:
    'Your answers are safe, but they cannot be submitted right now because the service cannot be reached. Submitting will work once the service is back; you do not need to enter anything again.',
  move: 'Your answers are safe, but you cannot change steps right now because the service cannot be reached. This will work once the service is back; you do not need to enter anything again.',
  conflict:
    'An answer was changed in another window or on another device. Choose which one to keep, then try again.',
  elsewhere:
    'Another window of this form is still saving answers. Try again once it shows “Saved”.',
};

/** What a field's held change says. */
export const HELD_TEXT = {
  conflict: (theirs) =>
    `This answer was changed in another window or on another device to ${theirs}. Which one do you want to keep?`,
  invalid: (message) => `Not saved: ${message}`,
  keep: 'Keep mine',
  letGo: 'Use the other answer',
};

/** The same, when this browser cannot store the answers (journal mode 'memory'). */
const REFUSED_NOT_KEPT_TEXT = {
  submit:
    'Your answers are not saved yet and this browser cannot store them, so keep this page open: they cannot be submitted right now because the service cannot be reached. Submitting will work once the service is back.',
  move: 'Your answers are not saved yet and this browser cannot store them, so keep this page open: you cannot change steps right now because the service cannot be reached. This will work once the service is back.',
};

/** The save state's text for `state` when the journal's mode is `mode`. */
export function statusText(state, mode = 'indexeddb') {
  return KEPT_TEXT[mode]?.[state] ?? STATUS_TEXT[state] ?? '';
}

/** The refusal's text for the button pressed (`submit` or `move`) and the journal's mode. */
export function refusedText(button, mode = 'indexeddb') {
  return (mode === 'memory' ? REFUSED_NOT_KEPT_TEXT : REFUSED_TEXT)[button];
}

/**
 * Shows a save state; the text changes only when it does, so it is announced once. `mode` is
 * the journal's (journal.js), 'indexeddb' if not given.
 */
export function showStatus(el, state, mode) {
  const text = statusText(state, mode);
  if (!el || el.textContent === text) return;
  el.dataset.state = state;
  el.textContent = text;
}

/** Shows the alert with `text`, or hides it when `text` is empty. */
export function showAlert(el, text) {
  if (!el) return;
  el.textContent = text;
  el.hidden = !text;
}
