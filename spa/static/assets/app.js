// app.js - the home page: sign in, or greet the signed-in user and show what
// authbff does for them (dashboard.js).
import { onSession, reloadSession, signIn, signOut, startSessionSync } from './auth.js';
import { demoPanel, sessionPanel, sessionsPanel, tokenPanel } from './dashboard.js';
import { actionButton, avatar, displayName, h, render, toDate } from './ui.js';

/** The signed-out picture of what happens: browser, authbff, API. */
function flow() {
  const node = (title, text) => h('li', { className: 'node' }, h('strong', {}, title), h('span', {}, text));
  const link = (text) => h('li', { className: 'link', 'aria-hidden': 'true' }, h('span', {}, text));
  return h('ol', { className: 'flow', 'aria-label': 'How authbff works' },
    node('This page', 'holds only an httpOnly cookie'),
    link('cookie'),
    node('authbff', 'signs you in, keeps the tokens'),
    link('access token'),
    node('Your API', 'gets the Bearer token'));
}

function view({ status, data }) {
  if (status === 'loading') {
    render(status, h('p', { className: 'muted' }, 'Loading…'));
    return;
  }
  if (status === 'unauthenticated') {
    render(
      status,
      flow(),
      h('p', {}, 'You are not signed in. Sign in to see the protected page.'),
      h('div', { className: 'actions' },
        actionButton({ id: 'signin', className: 'button' }, 'Sign in', () =>
          signIn('cognito', { callbackUrl: `${window.location.origin}/protected` }))),
    );
    return;
  }
  const user = data.user ?? {};
  const session = sessionPanel(data);
  // When the access token runs out, a call through the proxy makes authbff
  // refresh it; the panels then show the new one.
  const demo = demoPanel({ onClaims: (claims) => token.update(claims) });
  const token = tokenPanel(data, { onExpired: () => demo.call().then(reloadSession) });
  render(
    status,
    h('div', { className: 'user' },
      avatar(user),
      h('div', {},
        h('p', { id: 'welcome', className: 'welcome' }, `Welcome, ${displayName(user)}`),
        user.email && user.name ? h('p', { className: 'muted' }, user.email) : null)),
    h('div', { className: 'actions' },
      h('a', { id: 'protected-link', className: 'button secondary', href: '/protected' }, 'Protected page'),
      actionButton({ id: 'signout', className: 'button' }, 'Sign out', () =>
        signOut({ callbackUrl: window.location.origin }))),
    h('div', { className: 'panels' },
      session.el,
      token.el,
      demo.el,
      sessionsPanel({ onCurrent: (s) => session.setStart(toDate(s.created)) }).el),
  );
  // Without the token's times in the session JSON, the demo API's echo of
  // the token's claims is where they come from: call it once now.
  if (!token.update(null)) demo.call();
}

onSession(view);
startSessionSync({ refetchOnWindowFocus: true });
