// The step form: reading an answer out of a field's controls, putting one back, and showing or
// hiding fields as the answers change.
//
// Answers have the types of the session API (crates/definition/src/form.rs is the server's
// side of the same mapping): text as typed (blank is no answer), a number, a date as
// YYYY-MM-DD, a choice's value, true/false for a boolean ("yes"/"no" radios), a list of values
// for a multichoice, true for a ticked consent. `null` is no answer.
//
// Numbers are typed into text inputs and read by one rule for every browser language, the
// server's (`read_number` in form.rs): `.` or `,` is the decimal separator; thousands
// separators, and a number only a thousands separator could explain (`1.500`), are refused
// with a message at the field rather than misread.
//
// What the person is told at a field while typing (a number that cannot be read, text cut at
// the field's maxlength) is a note, part of the control's description (aria-describedby).
//
// Visibility follows crates/definition/src/condition.rs: a hidden field counts as unanswered
// in every condition that refers to it, so hiding cascades.

/** The controls of a field (one input, a textarea, a select, or a group of radios/boxes). */
function controls(form, id) {
  return Array.from(form.querySelectorAll(`[name="${CSS.escape(id)}"]`));
}

/** The field ids on this page, in page order. */
export function fieldIds(form) {
  return Array.from(form.querySelectorAll('.field[data-field]'), (el) => el.dataset.field);
}

/**
 * The answer a field's controls hold: a value, `null` for no answer, or `undefined` when it
 * cannot be read yet (a number input holding something that is not a number).
 */
export function read(form, id, type) {
  const els = controls(form, id);
  const first = els[0];
  if (!first) return undefined;
  if (type === 'multichoice') {
    const chosen = els.filter((el) => el.checked).map((el) => el.value);
    return chosen.length ? chosen : null;
  }
  if (first.type === 'radio') {
    const chosen = els.find((el) => el.checked);
    if (!chosen) return null;
    return type === 'boolean' ? chosen.value === 'yes' : chosen.value;
  }
  if (type === 'consent') return first.checked ? true : null;
  const text = first.value;
  if (type === 'number') {
    const number = readNumber(text);
    return 'problem' in number ? undefined : number.value;
  }
  if (type === 'choice' || type === 'date') return text || null;
  return text.trim() ? text : null;
}

/** Puts an answer (or `null`) into a field's controls. */
export function write(form, id, type, value) {
  const els = controls(form, id);
  const first = els[0];
  if (!first) return;
  if (type === 'multichoice') {
    const chosen = Array.isArray(value) ? value : [];
    for (const el of els) el.checked = chosen.includes(el.value);
  } else if (first.type === 'radio') {
    let wanted = value;
    if (type === 'boolean') wanted = value === true ? 'yes' : value === false ? 'no' : null;
    for (const el of els) el.checked = el.value === wanted;
  } else if (type === 'consent') {
    first.checked = value === true;
  } else if (type === 'number' && typeof value === 'number') {
    // Written so that it reads back the same: 1.125 as "1.1250" (form.rs does the same).
    const text = String(value);
    first.value = 'problem' in readNumber(text) ? `${text}0` : text;
  } else {
    first.value = value === null || value === undefined ? '' : String(value);
  }
}

const NUMBER_MESSAGE = 'Enter a number, for example 12 or 12.5';
const NUMBER_GROUPED_MESSAGE =
  'Write the number without thousands separators, for example 1500 or 1500.50 (or 1500,50)';
const GROUPING = /[ '_\u00a0\u202f\u2019]/;

/**
 * A number field's text read as the server reads it: `{value}` (a number, or null when blank)
 * or `{problem}`, the message the server would give.
 */
export function readNumber(raw) {
  const text = raw.trim();
  if (!text) return { value: null };
  const sign = /^[-+]/.test(text) ? text[0] : '';
  const unsigned = text.slice(sign.length);
  const separators = (unsigned.match(/[.,]/g) ?? []).length;
  if (separators > 1 || GROUPING.test(unsigned)) {
    const bare = unsigned.replace(new RegExp(GROUPING.source, 'g'), '');
    const grouped = /^[0-9.,]*$/.test(bare) && /[0-9]/.test(bare);
    return { problem: grouped ? NUMBER_GROUPED_MESSAGE : NUMBER_MESSAGE };
  }
  const ambiguous = /^([1-9][0-9]{0,2})[.,]([0-9]{3})$/.exec(unsigned);
  if (ambiguous) {
    const [, whole, fraction] = ambiguous;
    const decimals = fraction.replace(/0+$/, '');
    const small = decimals ? `${sign}${whole}.${decimals}` : `${sign}${whole}`;
    return {
      problem: `${text} could mean ${sign}${whole}${fraction} or ${small}: write one of these, without a thousands separator`,
    };
  }
  const plain = text.replace(',', '.');
  const n = Number(plain);
  if (!/^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(plain) || !Number.isFinite(n)) {
    return { problem: NUMBER_MESSAGE };
  }
  return { value: n === 0 ? 0 : n };
}

/** Shows `text` at a field as part of its control's description, or removes it when empty. */
export function note(form, id, text) {
  const control = controls(form, id)[0];
  if (!control) return;
  const noteId = `f-${id}-note`;
  let el = document.getElementById(noteId);
  const describedBy = (control.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
  if (!text) {
    el?.remove();
    const rest = describedBy.filter((d) => d !== noteId);
    if (rest.length) control.setAttribute('aria-describedby', rest.join(' '));
    else control.removeAttribute('aria-describedby');
    return;
  }
  if (!el) {
    el = document.createElement('p');
    el.id = noteId;
    el.className = 'field-note';
    el.setAttribute('aria-live', 'polite');
    control.before(el);
  }
  if (el.textContent !== text) el.textContent = text;
  if (!describedBy.includes(noteId)) control.setAttribute('aria-describedby', [...describedBy, noteId].join(' '));
}

/** The note for text cut at `max` characters. */
export const limitText = (max) =>
  `This answer is limited to ${max.toLocaleString('en-US')} characters; the rest was not kept.`;

/**
 * Tells the person at the field when what they type or paste is cut at the field's maxlength
 * (the browser cuts silently), and when a number cannot be read (once they leave the field).
 * `spec` is the form's data-fields.
 */
export function watchAnswers(form, spec) {
  const fieldOf = (el) => el.closest?.('[data-field]')?.dataset.field;
  const limited = (el) =>
    (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) && el.maxLength > 0;
  /** Whether inserting `text` in place of the selection goes past the limit. */
  const cuts = (el, text) => {
    if (typeof text !== 'string') return false;
    const inserted = el instanceof HTMLTextAreaElement ? text.replace(/\r\n?/g, '\n') : text.replace(/[\r\n]/g, '');
    const selected = (el.selectionEnd ?? 0) - (el.selectionStart ?? 0);
    return inserted.length > el.maxLength - (el.value.length - selected);
  };
  const tell = (el) => {
    const id = fieldOf(el);
    if (id) note(form, id, limitText(el.maxLength));
  };
  form.addEventListener('paste', (event) => {
    if (limited(event.target) && cuts(event.target, event.clipboardData?.getData('text/plain'))) tell(event.target);
  });
  form.addEventListener('beforeinput', (event) => {
    const el = event.target;
    if (!limited(el) || !event.inputType.startsWith('insert')) return;
    const text = /LineBreak|Paragraph/.test(event.inputType)
      ? '\n'
      : (event.data ?? event.dataTransfer?.getData('text/plain'));
    if (cuts(el, text)) tell(el);
  });
  const check = (el, leaving) => {
    const id = fieldOf(el);
    if (!id) return;
    if (spec[id]?.type === 'number') {
      const number = readNumber(el.value);
      if (!('problem' in number)) note(form, id, '');
      else if (leaving) note(form, id, number.problem);
    } else if (limited(el) && el.value.length < el.maxLength) {
      note(form, id, '');
    }
  };
  form.addEventListener('input', (event) => check(event.target, false));
  form.addEventListener('change', (event) => check(event.target, true));
}

/** Whether two answers are the same (numbers by value). */
export function same(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function answered(type, value) {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'boolean') return value || type !== 'consent';
  return true;
}

function matches(type, answer, value) {
  if (type === 'multichoice' && Array.isArray(answer)) return answer.some((a) => same(a, value));
  return same(answer, value);
}

/**
 * Which fields are visible for `answers`, given every field's `{type, visible_if}` (`spec`,
 * the form's data-fields). Returns `visible(id)`.
 */
export function visibility(spec, answers) {
  const known = new Map();
  const answerOf = (id) => {
    const field = spec[id];
    const answer = answers[id];
    if (!field || !answered(field.type, answer) || !visible(id)) return undefined;
    return answer;
  };
  const holds = (c) => {
    if ('all' in c) return c.all.every(holds);
    if ('any' in c) return c.any.some(holds);
    if ('not' in c) return !holds(c.not);
    const answer = answerOf(c.field);
    const type = spec[c.field]?.type;
    if ('equals' in c) return answer !== undefined && matches(type, answer, c.equals);
    if ('not_equals' in c) return answer !== undefined && !matches(type, answer, c.not_equals);
    if ('in' in c) return answer !== undefined && c.in.some((v) => matches(type, answer, v));
    if ('answered' in c) return (answer !== undefined) === c.answered;
    return true;
  };
  const visible = (id) => {
    const condition = spec[id]?.visible_if;
    if (!condition) return true;
    if (known.has(id)) return known.get(id);
    known.set(id, false); // met again only through a cycle: hidden
    const result = holds(condition);
    known.set(id, result);
    return result;
  };
  return visible;
}

/** Shows and hides the page's fields; a field showing an error stays shown, as the server does. */
export function showVisible(form, spec, answers) {
  const visible = visibility(spec, answers);
  for (const el of form.querySelectorAll('.field[data-field]')) {
    el.hidden = !visible(el.dataset.field) && !el.classList.contains('invalid');
  }
}
