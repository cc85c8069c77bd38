// The fixture app: the same pages, ids and texts as authbff's embedded SPA,
// driven by the real next-auth/react client passed in by the entry point.
import { useState } from 'react';
import { createRoot } from 'react-dom/client';

// providerId is the provider the Sign in button asks for: ?provider=<id> on
// the page (the provider tests use github), else cognito.
function providerId() {
  return new URLSearchParams(window.location.search).get('provider') || 'cognito';
}

export function mount({ SessionProvider, useSession, signIn, signOut }, flavour) {
  function Welcome({ user }) {
    // A picture that cannot be loaded is left out, like the embedded SPA does.
    const [broken, setBroken] = useState(false);
    return (
      <div className="user">
        {user.image && !broken
          ? <img className="avatar" src={user.image} alt="" width="48" height="48" referrerPolicy="no-referrer" onError={() => setBroken(true)} />
          : null}
        <p id="welcome" className="welcome">Welcome, {user.name || user.email || 'there'}</p>
      </div>
    );
  }

  function SignOutButton() {
    return (
      <button id="signout" type="button" className="button" onClick={() => signOut({ callbackUrl: window.location.origin })}>
        Sign out
      </button>
    );
  }

  function Home({ status, session }) {
    if (status === 'loading') return <p className="muted">Loading…</p>;
    if (status !== 'authenticated') {
      return (
        <>
          <p>You are not signed in. Sign in to see the protected page.</p>
          <div className="actions">
            <button id="signin" type="button" className="button"
              onClick={() => signIn(providerId(), { callbackUrl: `${window.location.origin}/protected` })}>
              Sign in
            </button>
          </div>
        </>
      );
    }
    return (
      <>
        <Welcome user={session.user ?? {}} />
        <div className="actions">
          <a id="protected-link" className="button secondary" href="/protected">Protected page</a>
          <SignOutButton />
        </div>
      </>
    );
  }

  function Protected({ status, session }) {
    if (status === 'loading') return <p className="muted">Loading…</p>;
    if (status !== 'authenticated') {
      window.location.replace('/');
      return <p className="muted">You are signed out. Going to the home page…</p>;
    }
    const user = session.user ?? {};
    return (
      <>
        <p id="protected-content">You are signed in as {user.email || user.name || 'an unknown user'}</p>
        <div className="actions"><SignOutButton /></div>
      </>
    );
  }

  function App() {
    const { data: session, status, update } = useSession();
    // Tests call the real client's update() through this (issue 23).
    window.__nextauthUpdate = update;
    const onProtected = window.location.pathname.replace(/\/+$/, '') === '/protected';
    return (
      <main className="card" aria-labelledby="title" data-flavour={flavour}>
        <p className="status">Session: <span id="status" role="status">{status}</span></p>
        <h1 id="title">{onProtected ? 'Protected page' : 'authbff'}</h1>
        <div id="view" aria-live="polite">
          {onProtected ? <Protected status={status} session={session} /> : <Home status={status} session={session} />}
        </div>
        {onProtected ? <nav className="actions" aria-label="Page"><a id="home-link" className="button secondary" href="/">Home</a></nav> : null}
      </main>
    );
  }

  createRoot(document.getElementById('root')).render(
    <SessionProvider refetchOnWindowFocus={true}>
      <App />
    </SessionProvider>,
  );
}
