// protected.js - the protected page. The server already redirects visitors
// without a session; this is the second line for a session that ends while
// the page is open.
import { onSession, signOut, startSessionSync } from './auth.js';
import { actionButton, avatar, h, render } from './ui.js';

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
  render(
    status,
    h('div', { className: 'user' },
      avatar(user),
      h('p', { id: 'protected-content' }, `You are signed in as ${user.email || user.name || 'an unknown user'}`)),
    h('div', { className: 'actions' },
      actionButton({ id: 'signout', className: 'button' }, 'Sign out', () =>
        signOut({ callbackUrl: window.location.origin }))),
  );
}

onSession(view);
startSessionSync({ refetchOnWindowFocus: true });
