// auth.js - a dependency-free NextAuth.js client for plain ES modules.
//
// It speaks the same wire protocol as next-auth/react v4 (and understands the
// v5 flavour), so pages using it and pages using the real client can be mixed
// on one origin: same routes, same form bodies, same cross-tab messages
// (localStorage key "nextauth.message" like v4 AND BroadcastChannel("next-auth")
// like v5). Sessions are "authenticated" only when the session JSON is a
// non-empty object, so both the v4 `{}` and the v5 `null` mean signed out.

/** The NextAuth base path on this origin. Change it with configure(). */
export let basePath = '/api/auth';

/** Sets options: `{basePath}` (e.g. '/auth'); a trailing slash is dropped. */
export function configure({ basePath: bp } = {}) {
  if (typeof bp === 'string' && bp !== '') {
    basePath = bp.replace(/\/+$/, '') || '/';
  }
}

const STORAGE_KEY = 'nextauth.message';
const CHANNEL_NAME = 'next-auth';
const nowSeconds = () => Math.floor(Date.now() / 1000);

// One channel object for posting and receiving: a BroadcastChannel never
// delivers a message to the object that posted it, so a tab does not wake
// itself up.
let channel;
function getChannel() {
  if (channel === undefined) {
    channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL_NAME) : null;
  }
  return channel;
}

/** Tells other tabs the session changed: trigger is 'getSession' or 'signout'. */
export function broadcast(trigger) {
  const message = { event: 'session', data: { trigger } };
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ ...message, timestamp: nowSeconds() }));
  } catch {
    // Storage can be disabled (privacy mode); the channel still works.
  }
  try {
    getChannel()?.postMessage(message);
  } catch {
    // A closed channel is not worth failing a sign-out for.
  }
}

function isSessionMessage(message) {
  return message != null && message.event === 'session' && message.data != null;
}

// fetchData mirrors next-auth/react's: JSON GET of `${basePath}/${path}`,
// null on any failure or on an empty object.
async function fetchData(path) {
  try {
    const res = await fetch(`${basePath}/${path}`, {
      headers: { 'Content-Type': 'application/json' },
    });
    const data = await res.json();
    if (!res.ok) throw data;
    return data && typeof data === 'object' && Object.keys(data).length > 0 ? data : null;
  } catch (error) {
    console.error(`[auth] GET ${basePath}/${path} failed`, error);
    return null;
  }
}

// fetchSession distinguishes "signed out" (null) from "could not tell" (throws).
async function fetchSession() {
  const res = await fetch(`${basePath}/session`, {
    headers: { 'Content-Type': 'application/json' },
  });
  if (!res.ok) throw new Error(`GET ${basePath}/session: HTTP ${res.status}`);
  const data = await res.json();
  return hasKeys(data) ? data : null;
}

function hasKeys(data) {
  return data != null && typeof data === 'object' && Object.keys(data).length > 0;
}

/**
 * Fetches the session: the session object, or null when signed out or on error.
 * Like next-auth/react it tells other tabs to refetch, unless
 * `{broadcast: false}` is given.
 */
export async function getSession(params = {}) {
  const session = await fetchData('session');
  if (params.broadcast ?? true) broadcast('getSession');
  return session;
}

/** Returns a CSRF token for a POST to the auth routes, or null on error. */
export async function getCsrfToken() {
  const data = await fetchData('csrf');
  return data?.csrfToken ?? null;
}

/** Returns the configured providers keyed by id, or null on error. */
export async function getProviders() {
  return fetchData('providers');
}

function navigate(url) {
  window.location.href = url;
  // Assigning a URL that differs only by its #fragment does not load a page.
  if (url.includes('#')) window.location.reload();
}

function formBody(fields) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) body.set(key, String(value));
  }
  return body;
}

/**
 * Starts a sign-in with a provider, exactly like next-auth/react v4:
 * GET providers (unknown id: go to the sign-in page), GET csrf, then POST
 * `${basePath}/signin/${provider}?${authorizationParams}` form-encoded with every
 * option plus csrfToken, callbackUrl (default: this page) and json=true, then
 * navigate to the returned URL. With `{redirect: false}` it does not navigate
 * and resolves to `{error, status, ok, url}` instead.
 */
export async function signIn(provider, options = {}, authorizationParams = {}) {
  const { callbackUrl = window.location.href, redirect = true } = options;
  const providers = await getProviders();
  if (!providers) {
    window.location.href = `${basePath}/error`;
    return undefined;
  }
  if (!provider || !(provider in providers)) {
    window.location.href = `${basePath}/signin?${new URLSearchParams({ callbackUrl })}`;
    return undefined;
  }
  const isCredentials = providers[provider].type === 'credentials';
  const query = new URLSearchParams(authorizationParams ?? {}).toString();
  const url = `${basePath}/${isCredentials ? 'callback' : 'signin'}/${encodeURIComponent(provider)}` +
    (query ? `?${query}` : '');
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody({ ...options, csrfToken: await getCsrfToken(), callbackUrl, json: true }),
  });
  const data = await res.json().catch(() => ({}));
  if (redirect) {
    navigate(data.url ?? callbackUrl);
    return undefined;
  }
  let error = null;
  try {
    error = new URL(data.url, window.location.href).searchParams.get('error');
  } catch {
    error = data.url ? null : 'Default';
  }
  if (res.ok) await refresh({ broadcast: true });
  return { error, status: res.status, ok: res.ok, url: error ? null : data.url ?? null };
}

/**
 * Signs out like next-auth/react v4: GET csrf, POST `${basePath}/signout`
 * form-encoded with csrfToken, callbackUrl (default: this page) and json=true,
 * tell other tabs, then navigate to the returned URL. With `{redirect: false}`
 * it refreshes the session store and resolves to the response JSON instead.
 */
export async function signOut(options = {}) {
  const { callbackUrl = window.location.href, redirect = true } = options;
  const res = await fetch(`${basePath}/signout`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody({ csrfToken: await getCsrfToken(), callbackUrl, json: true }),
  });
  const data = await res.json().catch(() => ({}));
  broadcast('signout');
  if (redirect) {
    navigate(data.url ?? callbackUrl);
    return undefined;
  }
  await refresh({ broadcast: false });
  return data;
}

// --- session store -------------------------------------------------------

let state = { status: 'loading', data: undefined };
const listeners = new Set();
let inflight = null;
let stopSync = null;

function setState(next) {
  if (next.status === state.status && JSON.stringify(next.data) === JSON.stringify(state.data)) return;
  state = next;
  for (const cb of [...listeners]) {
    try {
      cb(state);
    } catch (error) {
      console.error('[auth] session listener failed', error);
    }
  }
}

/** The last known session state: `{status, data}`. */
export function currentSession() {
  return state;
}

/**
 * Calls cb now and on every change with `{status, data}`: status is 'loading',
 * 'authenticated' (data is the session) or 'unauthenticated' (data is null).
 * Returns a function that unsubscribes.
 */
export function onSession(cb) {
  listeners.add(cb);
  cb(state);
  return () => listeners.delete(cb);
}

// refresh fetches the session into the store; concurrent calls share one
// request (a tab usually hears the same change on both the storage event and
// the channel). A failed fetch keeps the last known state, except while
// loading, so a network blip does not sign the page out.
function refresh({ broadcast: tell = false } = {}) {
  if (!inflight) {
    inflight = fetchSession()
      .then((data) => {
        setState(data ? { status: 'authenticated', data } : { status: 'unauthenticated', data: null });
      })
      .catch((error) => {
        console.error('[auth] session refresh failed', error);
        if (state.status === 'loading') setState({ status: 'unauthenticated', data: null });
      })
      .finally(() => {
        inflight = null;
      });
  }
  return inflight.then(() => {
    if (tell) broadcast('getSession');
  });
}

/**
 * Refetches the session into the store now (what onSession listeners see),
 * e.g. after an action that changed it on the server. Resolves when done.
 */
export function reloadSession() {
  return refresh();
}

/**
 * Keeps the session store current, like next-auth/react's SessionProvider:
 * fetches now (and tells other tabs, as v4 does on page load), refetches when
 * the tab becomes visible (refetchOnWindowFocus, default true) and every
 * refetchInterval seconds (default off) while not signed out, and whenever
 * another tab broadcasts a session change (v4 storage event or v5 channel).
 * Returns a function that stops it; calling it again restarts.
 */
export function startSessionSync({ refetchInterval = 0, refetchOnWindowFocus = true } = {}) {
  if (stopSync) stopSync();
  const cleanups = [];

  const onStorage = (event) => {
    if (event.key !== STORAGE_KEY) return;
    let message;
    try {
      message = JSON.parse(event.newValue ?? '{}');
    } catch {
      return;
    }
    if (isSessionMessage(message)) refresh();
  };
  window.addEventListener('storage', onStorage);
  cleanups.push(() => window.removeEventListener('storage', onStorage));

  const ch = getChannel();
  if (ch) {
    const onMessage = (event) => {
      if (isSessionMessage(event.data)) refresh();
    };
    ch.addEventListener('message', onMessage);
    cleanups.push(() => ch.removeEventListener('message', onMessage));
  }

  if (refetchOnWindowFocus) {
    const onVisibility = () => {
      if (document.visibilityState === 'visible' && state.status !== 'unauthenticated') {
        refresh({ broadcast: true });
      }
    };
    document.addEventListener('visibilitychange', onVisibility);
    cleanups.push(() => document.removeEventListener('visibilitychange', onVisibility));
  }

  if (refetchInterval > 0) {
    const timer = setInterval(() => {
      if (state.status !== 'unauthenticated') refresh({ broadcast: true });
    }, refetchInterval * 1000);
    cleanups.push(() => clearInterval(timer));
  }

  refresh({ broadcast: true });

  const stop = () => {
    for (const cleanup of cleanups) cleanup();
    if (stopSync === stop) stopSync = null;
  };
  stopSync = stop;
  return stop;
}

/**
 * Calls an API behind authbff's same-origin proxy: `/api/proxy/<name>/<path>`
 * with the session cookie and the `X-CSRF: 1` header the proxy requires.
 */
export function fetchApi(name, path, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('X-CSRF', '1');
  return fetch(`/api/proxy/${name}/${String(path).replace(/^\//, '')}`, {
    ...init,
    credentials: 'same-origin',
    headers,
  });
}

// --- authbff's sessions API -------------------------------------------------

// sessionsCall sends one sessions API request with the X-CSRF header the
// BFF routes require, and turns an error answer into a thrown Error carrying
// the server's own message and `status`.
async function sessionsCall(method, path) {
  const res = await fetch(`${basePath}/sessions${path}`, {
    method,
    credentials: 'same-origin',
    headers: { 'X-CSRF': '1' },
  });
  if (res.ok) return res;
  let message = `${method} ${basePath}/sessions${path}: HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && typeof body.message === 'string') message = body.message;
  } catch {
    // Not JSON (e.g. a server without the sessions API): keep the status.
  }
  const error = new Error(message);
  error.status = res.status;
  throw error;
}

/**
 * Lists the signed-in user's live sessions (authbff's `GET <basePath>/sessions`),
 * most recently used first: `[{id, created, lastSeen, expires, userAgent,
 * current}]`, times as ISO-8601 strings, `current` marking this browser's.
 * Throws an Error with the server's message (and `status`) on failure.
 */
export async function getSessions() {
  const res = await sessionsCall('GET', '');
  const data = await res.json();
  return Array.isArray(data?.sessions) ? data.sessions : [];
}

/**
 * Ends one of the user's sessions by its id from getSessions()
 * (`DELETE <basePath>/sessions/<id>`). Ending the current one signs this
 * browser out; other tabs are told. Throws like getSessions.
 */
export async function endSession(id) {
  await sessionsCall('DELETE', `/${encodeURIComponent(id)}`);
  await refresh({ broadcast: true });
}
