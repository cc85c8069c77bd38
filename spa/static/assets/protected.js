// protected.js - the protected page, where sign-in lands: the signed-in
// user's dashboard, showing what authbff does for them (dashboard.js). The
// server already redirects visitors without a session; this is the second
// line for a session that ends while the page is open.
import { onSession, reloadSession, signOut, startSessionSync } from './auth.js';
import { demoPanel, sessionPanel, sessionsPanel, tokenPanel } from './dashboard.js';
import { actionButton, avatar, displayName, h, render, toDate } from './ui.js';

function view({ status, data }) {
  if (status === 'loading') {
    render(status, h('p', { className: 'muted' }, 'Loading…'));
    return;
  }
  if (status === 'unauthenticated') {
    render(status, h('p', { className: 'muted' }, 'You are signed out. Going to the home page…'));
    window.location.replace('/');
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
        h('p', { className: 'welcome' }, displayName(user)),
        h('p', { id: 'protected-content', className: 'muted' }, `You are signed in as ${user.email || user.name || 'an unknown user'}`))),
    h('div', { className: 'actions' },
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
