// What the person is told: the save state (role="status", polite) and the error that stops a
// step change or Submit while the server cannot be reached (role="alert").
//
// These texts are a public contract (docs/browser.md): tests outside the project wait for the
// exact word "Saved".

/** The save state's text, by state (sync.js `Autosave.state()`). */
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

/** Shows a save state; the text changes only when the state does, so it is announced once. */
export function showStatus(el, state) {
  if (!el || el.dataset.state === state) return;
  el.dataset.state = state;
  el.textContent = STATUS_TEXT[state] ?? '';
}

/** Shows the alert with `text`, or hides it when `text` is empty. */
export function showAlert(el, text) {
  if (!el) return;
  el.textContent = text;
  el.hidden = !text;
}
