// ui.js - tiny DOM helpers shared by the pages. Text is always set with
// textContent, never parsed as HTML, so session values cannot inject markup.

/** Creates an element with attributes/properties and children (nodes or text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'onclick') el.addEventListener('click', value);
    else if (key === 'className') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Every-second callbacks of the current view; render() drops them, so a
// replaced view stops ticking.
const tickers = new Set();
let tickTimer = null;

/** Calls fn now and then every second until the next render(). */
export function everySecond(fn) {
  tickers.add(fn);
  fn();
  if (tickTimer === null) {
    tickTimer = setInterval(() => {
      for (const tick of [...tickers]) tick();
    }, 1000);
  }
}

/** Replaces the contents of #view and sets #status. */
export function render(status, ...nodes) {
  tickers.clear();
  clearInterval(tickTimer);
  tickTimer = null;
  document.getElementById('status').textContent = status;
  document.getElementById('view').replaceChildren(...nodes);
}

/** A button that disables itself while its async action runs. */
export function actionButton(attrs, label, action) {
  const button = h('button', { type: 'button', ...attrs }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      await action();
    } catch (error) {
      console.error(error);
    } finally {
      // On success the page navigates away; re-enable for the error and
      // redirect:false cases.
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return button;
}

/** The user's display name: name, else email, else a neutral word. */
export function displayName(user) {
  return user?.name || user?.email || 'there';
}

/** Up to two initials of the user's name (or email), "?" without either. */
export function initials(user) {
  const source = (user?.name || (user?.email ?? '').split('@')[0] || '').trim();
  const words = source.split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words.at(-1)] : words.slice(0, 1);
  return letters.map((w) => [...w][0]).join('').toUpperCase() || '?';
}

// A picture is shown only from this origin (or a data: URL): the CSP allows
// nothing else, and a request to an outside site would fail offline anyway.
function localPicture(src) {
  if (typeof src !== 'string' || src === '') return false;
  if (src.startsWith('data:image/')) return true;
  try {
    return new URL(src, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}

/**
 * The user's avatar: their picture when it is on this origin, else (and when
 * it fails to load) a circle with their initials, coloured by their email.
 */
export function avatar(user, size = 'large') {
  const name = user?.email || user?.name || '';
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  const badge = h('span', { className: `avatar ${size} hue-${hash % 6}`, 'aria-hidden': 'true' }, initials(user));
  if (!localPicture(user?.image)) return badge;
  const img = h('img', { className: `avatar ${size}`, src: user.image, alt: '', referrerpolicy: 'no-referrer' });
  img.addEventListener('error', () => img.replaceWith(badge), { once: true });
  return img;
}

const pad = (n) => String(n).padStart(2, '0');

/**
 * A countdown for ms milliseconds: "29 days 23:59:58", "05:59:58", "59:58",
 * or "expired" at zero and below.
 */
export function countdown(ms) {
  if (!(ms > 0)) return 'expired';
  const s = Math.floor(ms / 1000);
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const mmss = `${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  if (days > 0) return `${days} ${days === 1 ? 'day' : 'days'} ${pad(hours)}:${mmss}`;
  return hours > 0 ? `${pad(hours)}:${mmss}` : mmss;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'medium' });

/** "just now", "3 minutes ago", "in 2 hours", "in 29 days" for a time. */
export function ago(date, now = Date.now()) {
  const s = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 10) return 'just now';
  if (abs < 60) return relative.format(s, 'second');
  if (abs < 3600) return relative.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(s / 3600), 'hour');
  return relative.format(Math.round(s / 86400), 'day');
}

/** A local date and time, e.g. "Jan 31, 2030, 9:15:02 PM". */
export function when(date) {
  return absolute.format(date);
}

/** A Date from an ISO string or Unix seconds, or null. */
export function toDate(value) {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value * 1000);
  if (typeof value === 'string' && value !== '') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : new Date(t);
  }
  return null;
}

/** A short name for a User-Agent header: "Chrome on Linux", "curl". */
export function deviceName(ua) {
  if (!ua) return 'Unknown device';
  const browser = [
    [/Edg\//, 'Edge'], [/Firefox\//, 'Firefox'], [/HeadlessChrome\//, 'Headless Chrome'],
    [/OPR\//, 'Opera'], [/Chrome\/|Chromium\//, 'Chrome'], [/Safari\//, 'Safari'],
    [/^curl\//, 'curl'], [/^Go-http-client\//, 'Go program'], [/node|undici/i, 'Node.js'],
  ].find(([re]) => re.test(ua))?.[1];
  const os = [
    [/Windows/, 'Windows'], [/iPhone|iPad/, 'iOS'], [/Mac OS X|Macintosh/, 'macOS'],
    [/Android/, 'Android'], [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux'],
  ].find(([re]) => re.test(ua))?.[1];
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || ua.split(/[\s/]/)[0] || 'Unknown device';
}

/** A horizontal bar showing fraction (0..1) full; set() moves it. */
export function meter(label) {
  const fill = h('span', { className: 'meter-fill' });
  const bar = h('span', { className: 'meter', role: 'meter', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100 }, fill);
  bar.set = (fraction) => {
    const pct = Math.max(0, Math.min(1, fraction)) * 100;
    // CSSOM, not a style attribute: the CSP forbids inline styles.
    fill.style.width = `${pct}%`;
    bar.setAttribute('aria-valuenow', String(Math.round(pct)));
    bar.classList.toggle('low', pct < 15);
  };
  return bar;
}
