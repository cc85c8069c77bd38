// dashboard.js - the protected page's panels (the dashboard): what authbff is doing for
// this browser, shown rather than told. The session's expiry ticking down, the
// access token's expiry and last refresh, the demo API call through the
// proxy, and the user's sessions with this browser marked.
import { endSession, fetchApi, getSessions } from './auth.js';
import { actionButton, ago, countdown, deviceName, everySecond, h, meter, toDate, when } from './ui.js';

function panel(id, title, ...children) {
  return h('section', { className: 'panel', id, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title), ...children);
}

/**
 * The session's expiry, ticking down; setStart(date) (when it began, from
 * the sessions list) adds a bar of the lifetime left.
 */
export function sessionPanel(session) {
  const expires = toDate(session.expires);
  let start = null;
  const clock = h('p', { id: 'session-countdown', className: 'countdown' }, '…');
  const bar = meter('Session lifetime left');
  bar.hidden = true;
  const until = h('p', { className: 'muted' });
  const tick = () => {
    const now = Date.now();
    clock.textContent = expires ? countdown(expires - now) : 'unknown';
    until.textContent = expires
      ? `left, until ${when(expires)}. Using the app moves it forward.`
      : 'The server did not say when the session ends.';
    if (expires && start && expires > start) {
      bar.hidden = false;
      bar.set((expires - now) / (expires - start));
    }
  };
  everySecond(tick);
  const el = panel('session-panel', 'Session',
    clock, bar, until,
    h('p', { className: 'fine' }, 'Held in an httpOnly cookie: no script on this page can read it.'));
  const setStart = (date) => {
    start = date;
    tick();
  };
  return { el, setStart };
}

/**
 * The access token's expiry and last refresh. authbff keeps the token on the
 * server; its times come from the session JSON when the server puts them
 * there (accessTokenExpires, refreshedAt), else from the claims the demo API
 * echoes (exp, iat). update(claims) feeds the latter; it reports whether the
 * times are known.
 */
export function tokenPanel(session, { onExpired }) {
  const times = {
    exp: toDate(session.accessTokenExpires),
    iat: null,
    refreshed: toDate(session.refreshedAt),
    fromSession: toDate(session.accessTokenExpires) !== null,
  };
  const clock = h('p', { id: 'token-countdown', className: 'countdown' }, '…');
  const bar = meter('Access token lifetime left');
  const detail = h('p', { id: 'token-detail', className: 'muted' });
  const warning = session.error
    ? h('p', { className: 'notice error', role: 'alert' },
      `The identity provider refused to refresh the access token (${session.error}): sign out and in again.`)
    : null;
  let expiredFor = null; // the exp whose passing was reported
  const tick = () => {
    const now = Date.now();
    if (!times.exp) {
      clock.textContent = '--:--';
      bar.hidden = true;
      detail.textContent = 'Not known yet: the demo API call below tells it.';
      return;
    }
    clock.textContent = countdown(times.exp - now);
    bar.hidden = false;
    const start = times.refreshed ?? times.iat;
    if (start && times.exp > start) bar.set((times.exp - now) / (times.exp - start));
    const parts = [`left, until ${when(times.exp)}.`];
    if (times.refreshed) parts.push(`Last refreshed ${ago(times.refreshed, now)}.`);
    else if (times.fromSession) parts.push('Not refreshed since sign-in.');
    else if (times.iat) parts.push(`Issued ${ago(times.iat, now)}, at sign-in or the last refresh.`);
    detail.textContent = parts.join(' ');
    if (now > times.exp.getTime() && expiredFor !== times.exp.getTime()) {
      expiredFor = times.exp.getTime();
      onExpired?.();
    }
  };
  everySecond(tick);
  const el = panel('token-panel', 'Access token',
    clock, bar, detail, warning,
    h('p', { className: 'fine' }, 'Kept by authbff, never sent to the browser; refreshed when an API call finds it about to run out.'));
  const update = (claims) => {
    if (times.fromSession) return true;
    const exp = toDate(claims?.exp);
    if (!exp) return false;
    times.exp = exp;
    times.iat = toDate(claims.iat);
    tick();
    return true;
  };
  return { el, update };
}

/** The demo API call through authbff's proxy; onClaims gets the echoed claims. */
export function demoPanel({ onClaims }) {
  const line = h('p', { id: 'demo-status', className: 'muted', 'aria-live': 'polite' }, 'Not called yet.');
  const pre = h('pre', { id: 'demo-result', className: 'json' });
  const details = h('details', { hidden: true }, h('summary', {}, 'Response'), pre);
  async function call() {
    line.className = 'muted';
    line.textContent = 'Calling…';
    const started = performance.now();
    try {
      const res = await fetchApi('demo', 'me');
      const ms = Math.round(performance.now() - started);
      const text = await res.text();
      let body = null;
      try { body = JSON.parse(text); } catch { /* not JSON: shown as is */ }
      pre.textContent = `HTTP ${res.status}\n${body !== null ? JSON.stringify(body, null, 2) : text}`;
      details.hidden = false;
      if (res.ok) {
        const who = body?.claims?.username ?? body?.claims?.sub;
        line.className = 'ok';
        // No-break spaces keep "HTTP 200" and "12 ms" on one line.
        line.textContent = [`✓ HTTP\u00a0${res.status} in ${ms}\u00a0ms`, body?.message && `"${body.message}"`, who && `token of ${who}`]
          .filter(Boolean).join(' · ');
        onClaims?.(body?.claims);
      } else {
        line.className = 'notice error';
        line.textContent = `HTTP\u00a0${res.status}: ${body?.message ?? (text.slice(0, 160) || res.statusText)}`;
      }
    } catch (error) {
      line.className = 'notice error';
      line.textContent = `The call failed: ${error}`;
    }
  }
  const el = panel('demo-panel', 'Demo API',
    h('ol', { className: 'hops', 'aria-label': 'How the call travels' },
      h('li', {}, h('code', {}, 'GET /api/proxy/demo/me'), h('span', {}, 'this page, with its cookie')),
      h('li', {}, h('code', {}, 'authbff'), h('span', {}, 'adds Authorization: Bearer\u00a0<access\u00a0token>')),
      h('li', {}, h('code', {}, 'demo API'), h('span', {}, 'checks the token, echoes its claims'))),
    h('div', { className: 'actions' },
      actionButton({ id: 'call-demo', className: 'button secondary' }, 'Call the demo API', call)),
    line, details);
  return { el, call };
}

/**
 * The user's sessions: this browser marked, any other one can be ended.
 * onCurrent gets this browser's entry after every load.
 */
export function sessionsPanel({ onCurrent } = {}) {
  const list = h('ul', { id: 'session-list', className: 'sessions' });
  const note = h('p', { id: 'sessions-status', className: 'muted', 'aria-live': 'polite' }, 'Loading…');
  async function load(message) {
    let sessions;
    try {
      sessions = await getSessions();
    } catch (error) {
      list.replaceChildren();
      note.className = 'notice error';
      note.textContent = error.status === 404
        ? 'This server has no sessions API.'
        : `Could not list the sessions: ${error.message}`;
      return;
    }
    const now = Date.now();
    // This browser first, then the others, most recently used first.
    const seenAt = (s) => toDate(s.lastSeen)?.getTime() ?? 0;
    sessions = [...sessions].sort((a, b) => (b.current === true) - (a.current === true) || seenAt(b) - seenAt(a));
    list.replaceChildren(...sessions.map((s) => {
      const name = deviceName(s.userAgent);
      const created = toDate(s.created);
      const seen = toDate(s.lastSeen);
      const expires = toDate(s.expires);
      // Each fact wraps as a whole: "ends in 30 days" never splits.
      const facts = [
        created && `signed in ${ago(created, now)}`,
        seen && `last used ${ago(seen, now)}`,
        expires && `ends ${ago(expires, now)}`,
      ].filter(Boolean).flatMap((fact, i) => [i > 0 ? ' · ' : null, h('span', { className: 'fact' }, fact)]);
      return h('li', { className: s.current ? 'current' : '', 'data-session': s.id },
        h('div', {},
          h('p', { className: 'device' }, name, s.current ? h('span', { className: 'badge' }, 'This browser') : null),
          h('p', { className: 'fine', title: s.userAgent || '' }, ...facts)),
        s.current ? null : actionButton({ className: 'button small danger', 'aria-label': `End the session of ${name}` }, 'End',
          async () => {
            try {
              await endSession(s.id);
              await load(`Ended the session of ${name}: it is signed out.`);
            } catch (error) {
              note.className = 'notice error';
              note.textContent = `Could not end it: ${error.message}`;
            }
          }));
    }));
    const current = sessions.find((s) => s.current);
    if (current) onCurrent?.(current);
    const others = sessions.filter((s) => !s.current);
    note.className = 'muted';
    note.textContent = message ?? (others.length === 0
      ? 'Only this browser is signed in.'
      : `${others.length} other ${others.length === 1 ? 'session' : 'sessions'}: end any you do not recognise.`);
    endAll.hidden = others.length < 2;
    endAll.onclick = async () => {
      endAll.disabled = true;
      const failed = [];
      for (const s of others) {
        try {
          await endSession(s.id);
        } catch (error) {
          failed.push(error.message);
        }
      }
      endAll.disabled = false;
      await load(failed.length ? `Could not end ${failed.length}: ${failed[0]}` : 'Ended every other session.');
    };
  }
  const endAll = h('button', { type: 'button', id: 'end-others', className: 'button small danger', hidden: true }, 'End all other sessions');
  const el = panel('sessions-panel', 'Your sessions', list, note, endAll);
  load();
  return { el, load };
}
