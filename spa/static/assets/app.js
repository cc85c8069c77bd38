// app.js - the home page: sign in, or greet the signed-in user.
import { onSession, signIn, signOut, startSessionSync } from './auth.js';
import { actionButton, displayName, h, render } from './ui.js';

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
      user.image ? h('img', { className: 'avatar', src: user.image, alt: '', width: 48, height: 48, referrerpolicy: 'no-referrer' }) : null,
      h('p', { id: 'welcome', className: 'welcome' }, `Welcome, ${displayName(user)}`)),
    h('div', { className: 'actions' },
      h('a', { id: 'protected-link', className: 'button secondary', href: '/protected' }, 'Protected page'),
      actionButton({ id: 'signout', className: 'button' }, 'Sign out', () =>
        signOut({ callbackUrl: window.location.origin }))),
  );
}

onSession(view);
startSessionSync({ refetchOnWindowFocus: true });
