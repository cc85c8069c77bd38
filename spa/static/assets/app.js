// app.js - the home page: sign in, or greet the signed-in user.
import { fetchApi, onSession, signIn, signOut, startSessionSync } from './auth.js';
import { actionButton, displayName, h, render } from './ui.js';

// avatar is the user's picture; one that cannot be loaded (offline, a dead
// link) is removed rather than shown as a broken image.
function avatar(src) {
  const img = h('img', { className: 'avatar', src, alt: '', width: 48, height: 48, referrerpolicy: 'no-referrer' });
  img.addEventListener('error', () => img.remove(), { once: true });
  return img;
}

/** Calls the demo API through the BFF proxy and shows its JSON answer. */
async function callDemoApi() {
  const out = document.getElementById('demo-result');
  out.hidden = false;
  out.textContent = 'Calling /api/proxy/demo/me…';
  try {
    const res = await fetchApi('demo', 'me');
    const text = await res.text();
    let body = text;
    try { body = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON: show as is */ }
    out.textContent = `HTTP ${res.status}\n${body}`;
  } catch (error) {
    out.textContent = `The call failed: ${error}`;
  }
}

/** A <pre> for the demo API's answer (styled through CSSOM: the CSP forbids style attributes). */
function demoResult() {
  const pre = h('pre', { id: 'demo-result', className: 'muted', hidden: true });
  pre.style.whiteSpace = 'pre-wrap';
  pre.style.wordBreak = 'break-all';
  pre.style.fontSize = '0.8rem';
  return pre;
}

function view({ status, data }) {
  if (status === 'loading') {
    render(status, h('p', { className: 'muted' }, 'Loading…'));
    return;
  }
  if (status === 'unauthenticated') {
    render(
      status,
      h('p', {}, 'You are not signed in. Sign in to see the protected page.'),
      h('div', { className: 'actions' },
        actionButton({ id: 'signin', className: 'button' }, 'Sign in', () =>
          signIn('cognito', { callbackUrl: `${window.location.origin}/protected` }))),
    );
    return;
  }
  const user = data.user ?? {};
  render(
    status,
    h('div', { className: 'user' },
      user.image ? avatar(user.image) : null,
      h('p', { id: 'welcome', className: 'welcome' }, `Welcome, ${displayName(user)}`)),
    h('div', { className: 'actions' },
      h('a', { id: 'protected-link', className: 'button secondary', href: '/protected' }, 'Protected page'),
      actionButton({ id: 'call-demo', className: 'button secondary' }, 'Call the demo API', callDemoApi),
      actionButton({ id: 'signout', className: 'button' }, 'Sign out', () =>
        signOut({ callbackUrl: window.location.origin }))),
    demoResult(),
  );
}

onSession(view);
startSessionSync({ refetchOnWindowFocus: true });
