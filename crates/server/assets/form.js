// The step form: reading an answer out of a field's controls, putting one back, and showing or
// hiding fields as the answers change.
//
// Answers have the types of the session API (crates/definition/src/form.rs is the server's
// side of the same mapping): text as typed (blank is no answer), a number, a date as
// YYYY-MM-DD, a choice's value, true/false for a boolean ("yes"/"no" radios), a list of values
// for a multichoice, true for a ticked consent. `null` is no answer.
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
    if (first.validity?.badInput) return undefined;
    const trimmed = text.trim();
    if (!trimmed) return null;
    const n = Number(trimmed);
    return Number.isFinite(n) ? n : undefined;
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
  } else {
    first.value = value === null || value === undefined ? '' : String(value);
  }
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
