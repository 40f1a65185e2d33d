// Small DOM helpers shared by the pages: no framework, no inline script
// (the server's Content-Security-Policy forbids it), text set with
// textContent only (nothing the server sends is parsed as HTML).

// el('p', { class: 'x', 'data-check': 'log' }, 'text', child, ...)
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// Announces text to screen readers (the element is role="status",
// aria-live="polite") and shows it.
export function say(text) {
  const s = document.getElementById('status');
  if (s) s.textContent = text;
}

// GET url: { status, text, json (if the answer is JSON), error (a
// network failure) }.
export async function get(url) {
  try {
    const r = await fetch(url, { cache: 'no-store', credentials: 'omit' });
    const text = await r.text();
    let json = null;
    if ((r.headers.get('content-type') || '').startsWith('application/json')) {
      try {
        json = JSON.parse(text);
      } catch (e) {
        json = null;
      }
    }
    return { status: r.status, text, json, headers: r.headers, error: null };
  } catch (e) {
    return { status: 0, text: '', json: null, headers: null, error: e.message || String(e) };
  }
}

// The server's one-line reason from a JSON error answer.
export function reason(r) {
  if (r.error) return `the server could not be reached (${r.error})`;
  return (r.json && typeof r.json.error === 'string' && r.json.error) || `the server answered ${r.status}`;
}

// The words for a check's outcome: never colour alone.
export const WORDS = { pass: 'Passed', fail: 'FAILED', unable: 'Not checked', info: 'Note' };
export const MARKS = { pass: '\u2713', fail: '\u2717', unable: '?', info: 'i' };
