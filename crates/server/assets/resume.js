// "Continue later": shows the session's resume link and lets the person copy it.
//
// The page has it as a <details> disclosure, which works without JavaScript. Here it becomes
// a real button with aria-expanded (the disclosure pattern), and a Copy button appears when the
// browser offers the clipboard.

function disclosure(details) {
  const summary = details.querySelector('summary');
  const panel = details.querySelector('.resume-panel');
  if (!summary || !panel) return;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link';
  button.textContent = summary.textContent.trim();
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', panel.id);
  panel.hidden = true;
  const box = document.createElement('div');
  box.className = details.className;
  box.id = details.id;
  box.append(button, panel);
  details.replaceWith(box);
  button.addEventListener('click', () => {
    const open = panel.hidden;
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
  });
}

function copying(button, link, note) {
  if (!navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(link.textContent.trim());
      note.textContent = 'Link copied';
    } catch {
      getSelection()?.selectAllChildren(link);
      note.textContent = 'The link is selected: copy it with your keyboard or menu.';
    }
  });
}

/** Sets up "Continue later" if the page has it. */
export function setUpResume() {
  const details = document.getElementById('resume');
  const button = document.getElementById('copy-link');
  const link = document.getElementById('resume-link');
  const note = document.getElementById('copy-note');
  if (details?.tagName === 'DETAILS') disclosure(details);
  if (button && link && note) copying(button, link, note);
}
