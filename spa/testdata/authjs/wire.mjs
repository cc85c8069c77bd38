// wire.mjs - drives static/assets/auth.js in Node against the fake NextAuth
// server of authjs_test.go. Usage: node wire.mjs <server URL> <auth module>,
// where <auth module> is a copy of auth.js named *.mjs: Node always loads .mjs
// as an ES module, whatever package.json is above it and whatever its version
// guesses for .js (Node 18 guesses CommonJS and fails on `export`).
// Prints "ok" on success; any failed check throws (exit code 1).
// Node 18 is the oldest Node this must run on (Debian 12's nodejs).
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';

const base = process.argv[2];
const authModule = process.argv[3];
if (!base || !authModule?.endsWith('.mjs')) {
  throw new Error('usage: node wire.mjs <server URL> <path of auth.js copied as *.mjs>');
}
const origin = base;

// A minimal browser: window/document event targets, location, localStorage,
// and a fetch that resolves relative URLs against the server like a page would.
const navigations = [];
const location = {
  origin,
  _href: `${origin}/`,
  get href() { return this._href; },
  set href(v) { navigations.push(v); this._href = new URL(v, this._href).href; },
  reload() { navigations.push('reload'); },
  replace(v) { navigations.push(`replace:${v}`); },
};
globalThis.window = Object.assign(new EventTarget(), { location });
globalThis.document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
const store = new Map();
globalThis.localStorage = {
  setItem: (k, v) => store.set(k, String(v)),
  getItem: (k) => store.get(k) ?? null,
  removeItem: (k) => store.delete(k),
};
const realFetch = globalThis.fetch;
// After a navigation a real page would be gone; keep resolving against the app.
globalThis.fetch = (url, init) => realFetch(new URL(url, base), init);
console.error = () => {}; // the client logs expected failures

const control = (what) => realFetch(`${base}/test/${what}`, { method: 'POST' });
const until = async (pred, what) => {
  for (let i = 0; i < 200; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
};

const auth = await import(pathToFileURL(authModule).href);
let current;
const statuses = [];
const unsubscribe = auth.onSession((s) => { current = s; statuses.push(s.status); });
assert.equal(current.status, 'loading');

// v4 flavour signed out: {} is unauthenticated; start-up tells other tabs.
const stop = auth.startSessionSync({ refetchOnWindowFocus: true });
await until(() => current.status !== 'loading', 'first session');
assert.equal(current.status, 'unauthenticated');
assert.equal(current.data, null);
assert.equal(JSON.parse(store.get('nextauth.message')).data.trigger, 'getSession');

// signIn: provider known -> POST, then navigate to the returned URL.
await auth.signIn('cognito', { callbackUrl: `${origin}/protected` }, { prompt: 'login' });
assert.equal(navigations.at(-1), 'https://idp.example/authorize?client_id=x');

// signIn: unknown provider -> the server's sign-in page.
await auth.signIn('nope', { callbackUrl: `${origin}/protected` });
assert.equal(navigations.at(-1), `/api/auth/signin?callbackUrl=${encodeURIComponent(`${origin}/protected`)}`);

// Another tab (v4) signed in: storage event -> refetch.
await control('login');
const storage = new Event('storage');
Object.assign(storage, { key: 'nextauth.message', newValue: JSON.stringify({ event: 'session', data: { trigger: 'getSession' }, timestamp: 1 }) });
window.dispatchEvent(storage);
await until(() => current.status === 'authenticated', 'authenticated after storage event');
assert.equal(current.data.user.email, 'ada@example.com');

// An unrelated storage key is ignored.
await control('logout-null');
const other = new Event('storage');
Object.assign(other, { key: 'something', newValue: '{}' });
window.dispatchEvent(other);
await new Promise((r) => setTimeout(r, 100));
assert.equal(current.status, 'authenticated');

// Another tab (v5) signed out: BroadcastChannel -> refetch; null is signed out.
const peer = new BroadcastChannel('next-auth');
const heard = [];
peer.onmessage = (e) => heard.push(e.data);
peer.postMessage({ event: 'session', data: { trigger: 'signout' } });
await until(() => current.status === 'unauthenticated', 'unauthenticated after channel message');

// Visibility while signed out does not refetch (like next-auth/react).
const before = (await (await realFetch(`${base}/test/count`)).json()).session;
document.dispatchEvent(new Event('visibilitychange'));
await new Promise((r) => setTimeout(r, 100));
assert.equal((await (await realFetch(`${base}/test/count`)).json()).session, before);

// signOut: POST, tell other tabs both ways, navigate (and reload on '#').
await control('login');
store.delete('nextauth.message');
await auth.signOut({ callbackUrl: `${origin}/#bye` });
assert.equal(JSON.parse(store.get('nextauth.message')).data.trigger, 'signout');
assert.ok(JSON.parse(store.get('nextauth.message')).timestamp > 1_600_000_000);
await until(() => heard.some((m) => m.data?.trigger === 'signout'), 'signout on the channel');
assert.deepEqual(navigations.slice(-2), [`${origin}/#bye`, 'reload']);

// fetchApi adds the proxy prefix and X-CSRF, keeps the caller's headers.
const res = await auth.fetchApi('orders', '/v1/items?x=1', { headers: { 'X-Trace': 't1' } });
assert.equal(res.status, 200);

// The sessions API: listed with X-CSRF, one ended, a wrong id is the server's message.
const list = await auth.getSessions();
assert.deepEqual(list.map((s) => [s.id, s.current]), [['bbbb', false], ['aaaa', true]]);
await auth.endSession('bbbb');
await assert.rejects(auth.endSession('nope/../x'), (e) => e.status === 404 && /no session with that id/.test(e.message));

// configure moves every call to another base path.
auth.configure({ basePath: '/auth/' });
assert.equal(auth.basePath, '/auth');
assert.equal((await auth.getCsrfToken()), 'tok-custom');

unsubscribe();
stop();
peer.close();
process.stdout.write('ok\n');
process.exit(0);
