// ui.js - tiny DOM helpers shared by the pages. Text is always set with
// textContent, never parsed as HTML, so session values cannot inject markup.

/** Creates an element with attributes/properties and children (nodes or text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'onclick') el.addEventListener('click', value);
    else if (key === 'className') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the contents of #view and sets #status. */
export function render(status, ...nodes) {
  document.getElementById('status').textContent = status;
  document.getElementById('view').replaceChildren(...nodes);
}

/** A button that disables itself while its async action runs. */
export function actionButton(attrs, label, action) {
  const button = h('button', { type: 'button', ...attrs }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      await action();
    } catch (error) {
      console.error(error);
    } finally {
      // On success the page navigates away; re-enable for the error and
      // redirect:false cases.
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return button;
}

/** The user's display name: name, else email, else a neutral word. */
export function displayName(user) {
  return user?.name || user?.email || 'there';
}
