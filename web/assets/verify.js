// The board's formats, checked in the browser (docs/pages.md, docs/board.md).
//
// C2SP signed-note v1.0.0 (Ed25519, type 0x01), tlog-checkpoint v1.0.0,
// tlog-cosignature v1.0.1 (Ed25519, type 0x04), tlog-proof v1 receipts and
// RFC 9162 inclusion proofs, with SHA-256 and Ed25519 from WebCrypto. Every
// parser is strict and throws an Error whose message says what is wrong;
// every check returns what it found rather than throwing, so that a page can
// say, item by item, what passed and what failed.

const utf8 = new TextEncoder();
const utf8dec = new TextDecoder('utf-8', { fatal: true });

export const SIG_ED25519 = 0x01; // a log's checkpoint key
export const SIG_COSIG = 0x04; // a witness's cosignature key

// ---- bytes ----

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function b64encode(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

// Canonical standard base64 only (padding, no stray bits), as the C side.
export function b64decode(text) {
  if (typeof text !== 'string' || !B64.test(text)) throw new Error('not base64');
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  if (b64encode(out) !== text) throw new Error('not canonical base64');
  return out;
}

export function b64url(bytes) {
  return b64encode(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

// ---- what this browser can do ----

// What this browser lets the page check: { sha256, ed25519, why }. WebCrypto
// exists only in a secure context (HTTPS, or a page from this computer);
// Ed25519 is in WebCrypto since Chromium 137, Firefox 129 and Safari 17.
export async function cryptoSupport() {
  if (!globalThis.isSecureContext || !globalThis.crypto || !crypto.subtle) {
    return {
      sha256: false, ed25519: false,
      why: 'This page was not loaded over HTTPS (nor from this computer), so the browser does not let it use ' +
        'its cryptography: nothing could be checked here. Open the page over HTTPS.',
    };
  }
  try {
    // any 32 bytes import as a raw Ed25519 public key
    await crypto.subtle.importKey('raw', new Uint8Array(32).fill(1), { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    return {
      sha256: true, ed25519: false,
      why: 'This browser cannot check Ed25519 signatures (its WebCrypto has no Ed25519: that needs Chromium 137, ' +
        'Firefox 129, Safari 17 or later), so no signature was checked. Use a newer browser to check them.',
    };
  }
  return { sha256: true, ed25519: true, why: null };
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

async function ed25519Verify(pub, sig, msg) {
  try {
    const key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, msg);
  } catch (e) {
    return false; // a key or signature WebCrypto refuses does not verify
  }
}

// ---- keys: C2SP signed-note verifier keys ----

const NAME_BAD = /[\s+\u0000-\u001f\u007f]/u;

// "name+<8 hex key ID>+base64(type || 32-byte key)". The key ID must be
// SHA-256(name || "\n" || type || key)[:4].
export async function parseVkey(line) {
  const m = /^(.+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(line);
  if (!m) throw new Error('not a verifier key (name+keyid+key)');
  const [, name, idhex, b64] = m;
  if (NAME_BAD.test(name) || utf8.encode(name).length > 255) throw new Error('the key name is not valid');
  const raw = b64decode(b64);
  if (raw.length !== 33) throw new Error('the key is not 33 bytes (type and 32-byte Ed25519 key)');
  const type = raw[0];
  if (type !== SIG_ED25519 && type !== SIG_COSIG) throw new Error(`unknown key type 0x${type.toString(16)}`);
  const key = raw.slice(1);
  const id = (await sha256(concat(utf8.encode(name + '\n'), raw))).slice(0, 4);
  if (hex(id) !== idhex) throw new Error('the key ID does not match the name and key');
  return { name, type, key, id, text: line };
}

// One key a line; empty lines skipped.
export async function parseVkeys(text) {
  const keys = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (!l) continue;
    try {
      keys.push(await parseVkey(l));
    } catch (e) {
      throw new Error(`line ${i + 1}: ${e.message}`);
    }
  }
  return keys;
}

// ---- notes, checkpoints, cosignatures ----

// A signed note: the text (up to and including the newline before the last
// blank line) and its signature lines "— name base64(key ID || sig)".
export function parseNote(note) {
  if (!note.endsWith('\n')) throw new Error('the note does not end in a newline');
  const cut = note.lastIndexOf('\n\n');
  if (cut < 0) throw new Error('the note has no blank line before its signatures');
  const text = note.slice(0, cut + 1);
  const sigs = [];
  for (const line of note.slice(cut + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error('a signature line is malformed');
    const raw = b64decode(m[2]);
    if (raw.length < 5) throw new Error('a signature is too short');
    sigs.push({ name: m[1], id: raw.slice(0, 4), sig: raw.slice(4), line });
  }
  if (!sigs.length) throw new Error('the note has no signature');
  return { text, sigs };
}

// tlog-checkpoint: origin, decimal size, base64 root, extension lines.
export function parseCheckpoint(text) {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new Error('not a checkpoint (too few lines)');
  const [origin, size, root] = lines;
  if (!origin) throw new Error('the checkpoint has no origin');
  if (!/^(0|[1-9][0-9]{0,18})$/.test(size) || BigInt(size) > 2n ** 63n - 1n) {
    throw new Error('the checkpoint size is not a decimal number');
  }
  const r = b64decode(root);
  if (r.length !== 32) throw new Error('the checkpoint root is not 32 bytes');
  return { origin, size: BigInt(size), root: r, extensions: lines.slice(3, -1) };
}

function sigsOf(note, key) {
  return note.sigs.filter((s) => s.name === key.name && equal(s.id, key.id));
}

// The log's signature on the note: { ok, why }.
export async function checkLogSignature(note, logKey) {
  if (logKey.type !== SIG_ED25519) return { ok: false, why: 'the log key is not an Ed25519 note key (type 0x01)' };
  const sigs = sigsOf(note, logKey);
  if (!sigs.length) return { ok: false, why: `the checkpoint carries no signature by the log key ${logKey.name}` };
  for (const s of sigs) {
    if (s.sig.length !== 64 || !(await ed25519Verify(logKey.key, s.sig, utf8.encode(note.text)))) {
      return { ok: false, why: "the log's signature does not verify: the checkpoint is not the one the log signed" };
    }
  }
  return { ok: true, why: `signed by ${logKey.name}` };
}

// One witness's cosignature on the note: { status: 'ok' | 'bad' | 'absent',
// time (BigInt seconds, if ok), why }.
export async function checkCosignature(note, wkey) {
  if (wkey.type !== SIG_COSIG) return { status: 'bad', why: 'not a cosignature key (type 0x04)' };
  const sigs = sigsOf(note, wkey);
  if (!sigs.length) return { status: 'absent', why: 'did not cosign this checkpoint' };
  let time = null;
  for (const s of sigs) {
    if (s.sig.length !== 72) return { status: 'bad', why: 'the cosignature is not 72 bytes' };
    const t = new DataView(s.sig.buffer, s.sig.byteOffset, 8).getBigUint64(0);
    if (t > 2n ** 63n - 1n) return { status: 'bad', why: 'the cosignature time is out of range' };
    const msg = utf8.encode(`cosignature/v1\ntime ${t}\n${note.text}`);
    if (!(await ed25519Verify(wkey.key, s.sig.slice(8), msg))) {
      return { status: 'bad', why: 'the cosignature does not verify' };
    }
    if (time === null || t > time) time = t;
  }
  return { status: 'ok', time, why: 'cosigned' };
}

// A majority of the witnesses listed, as `detente receipt verify` and
// `detente verify` count by default.
export function defaultQuorum(n) {
  return Math.floor(n / 2) + 1;
}

// Everything about a cosigned checkpoint: the log's signature, the origin,
// each listed witness's cosignature and the quorum.
export async function checkCheckpoint(noteText, logKey, witnessKeys) {
  const out = { note: null, checkpoint: null, parseError: null, log: null, witnesses: [], quorum: 0, cosigned: 0 };
  try {
    out.note = parseNote(noteText);
    out.checkpoint = parseCheckpoint(out.note.text);
  } catch (e) {
    out.parseError = e.message;
    return out;
  }
  out.log = await checkLogSignature(out.note, logKey);
  if (out.log.ok && out.checkpoint.origin !== logKey.name) {
    out.log = { ok: false, why: `the checkpoint's origin '${out.checkpoint.origin}' is not the log key's name` };
  }
  const seen = new Set();
  for (const w of witnessKeys) {
    if (seen.has(w.text)) continue; // a key listed twice counts once
    seen.add(w.text);
    const r = await checkCosignature(out.note, w);
    out.witnesses.push({ key: w, ...r });
    if (r.status === 'ok') out.cosigned++;
  }
  out.quorum = defaultQuorum(seen.size);
  return out;
}

// ---- receipts (C2SP tlog-proof v1) and board entries ----

export function parseReceipt(text) {
  const lines = text.split('\n');
  if (lines[0] !== 'c2sp.org/tlog-proof@v1') throw new Error('not a tlog-proof receipt');
  let i = 1;
  let entry = null;
  if (lines[i] && lines[i].startsWith('extra ')) entry = b64decode(lines[i++].slice(6));
  const m = /^index (0|[1-9][0-9]{0,18})$/.exec(lines[i++] || '');
  if (!m) throw new Error('the receipt has no index line');
  const proof = [];
  while (i < lines.length && lines[i] !== '') {
    const h = b64decode(lines[i++]);
    if (h.length !== 32) throw new Error('a proof hash is not 32 bytes');
    proof.push(h);
  }
  if (i >= lines.length) throw new Error('the receipt has no checkpoint');
  if (proof.length > 65) throw new Error('the proof is too long');
  return { entry, index: BigInt(m[1]), proof, note: lines.slice(i + 1).join('\n') };
}

// A board entry: "detente/entry/v1\npath P\n[code C\n][blob H N\n]\n<file>".
export function parseEntry(bytes) {
  const head = ['detente/entry/v1'];
  let at = 0;
  const line = () => {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) throw new Error('the entry is truncated');
    const l = utf8dec.decode(bytes.subarray(at, nl));
    at = nl + 1;
    return l;
  };
  if (line() !== head[0]) throw new Error('not a detente board entry');
  const p = /^path ([A-Za-z0-9._\/-]{1,255})$/.exec(line());
  if (!p) throw new Error('the entry has no path line');
  const e = { path: p[1], code: null, blob: null, body: null };
  let l = line();
  if (l.startsWith('code ')) {
    e.code = l.slice(5);
    if (b64decode(e.code).length !== 32) throw new Error('the entry\'s code is not 32 bytes');
    l = line();
  }
  if (l.startsWith('blob ')) {
    e.blob = l.slice(5);
    l = line();
  }
  if (l !== '') throw new Error('the entry has an unexpected line');
  e.body = bytes.subarray(at);
  return e;
}

// RFC 9162 section 2.1.3.2: the root computed from the leaf hash at index
// in a tree of size, or null if the proof has the wrong shape.
export async function inclusionRoot(leafHash, index, size, proof) {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1n;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(concat(Uint8Array.of(1), p, r));
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await sha256(concat(Uint8Array.of(1), r, p));
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

export async function leafHash(entry) {
  return sha256(concat(Uint8Array.of(0), entry));
}

// ---- confirmation codes ----

// A code as `detente encrypt` prints it (standard base64) or base64url, with
// or without padding and surrounding spaces: its 32 bytes.
export function parseCode(text) {
  let s = text.replace(/\s+/g, '');
  if (!s) throw new Error('Enter your confirmation code.');
  s = s.replace(/-/g, '+').replace(/_/g, '/');
  if (s.length === 43) s += '=';
  let bytes;
  try {
    bytes = b64decode(s);
  } catch (e) {
    bytes = null;
  }
  if (!bytes || bytes.length !== 32) {
    throw new Error('That is not a confirmation code: a code is 44 characters of letters, digits, + and / ' +
      'ending in =, as your voting device showed it.');
  }
  return bytes;
}

// "2026-11-27 08:21:05 UTC"
export function utcTime(seconds) {
  const d = new Date(Number(seconds) * 1000);
  if (Number.isNaN(d.getTime())) return `${seconds} seconds after 1970-01-01 UTC`;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
