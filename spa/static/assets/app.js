// app.js - the home page: sign in, or greet the signed-in user and lead to
// the protected page, where their dashboard is (protected.js).
import { onSession, signIn, signOut, startSessionSync } from './auth.js';
import { actionButton, avatar, displayName, h, render } from './ui.js';

/** The picture of what happens: browser, authbff, API. */
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
      h('p', {}, 'You are not signed in. Sign in to see your dashboard on the protected page.'),
      h('div', { className: 'actions' },
        // Sign-in lands on the protected page: the dashboard is there.
        actionButton({ id: 'signin', className: 'button' }, 'Sign in', () =>
          signIn('cognito', { callbackUrl: `${window.location.origin}/protected` }))),
    );
    return;
  }
  const user = data.user ?? {};
  render(
    status,
    h('div', { className: 'user' },
      avatar(user),
      h('div', {},
        h('p', { id: 'welcome', className: 'welcome' }, `Welcome, ${displayName(user)}`),
        user.email && user.name ? h('p', { className: 'muted' }, user.email) : null)),
    flow(),
    h('p', {}, 'Your dashboard on the protected page shows your session ticking down, the access token, a call of the demo API and your sessions.'),
    h('div', { className: 'actions' },
      h('a', { id: 'protected-link', className: 'button', href: '/protected' }, 'Your dashboard'),
      actionButton({ id: 'signout', className: 'button secondary' }, 'Sign out', () =>
        signOut({ callbackUrl: window.location.origin }))),
  );
}

onSession(view);
startSessionSync({ refetchOnWindowFocus: true });
