// web/assets/verify.js (the checks the pages run in the browser) under
// node's own WebCrypto, against the vectors the C side is tested with:
// every RFC 9162 inclusion vector of transparency-dev/merkle
// (tests/vectors/rfc9162/inclusion) and the signed-note vectors
// (tests/vectors/signed-note). tests/cli/verify_js.sh runs it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as v from '../../web/assets/verify.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const vectors = path.join(here, '../vectors');

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []));
}

test('RFC 9162 inclusion vectors: success exactly where expected', async () => {
  const all = files(path.join(vectors, 'rfc9162/inclusion'));
  assert.ok(all.length > 90, `only ${all.length} vectors`);
  let good = 0;
  for (const f of all) {
    const text = fs.readFileSync(f, 'utf8');
    const j = JSON.parse(text);
    // sizes up to 2^64 - 1: read from the text, not as JSON numbers
    const idx = BigInt(/"leafIdx":\s*(\d+)/.exec(text)[1]);
    const size = BigInt(/"treeSize":\s*(\d+)/.exec(text)[1]);
    const root = Buffer.from(j.root || '', 'base64');
    const leaf = Buffer.from(j.leafHash || '', 'base64');
    const proof = (j.proof || []).map((p) => new Uint8Array(Buffer.from(p, 'base64')));
    let ok = false;
    if (root.length === 32 && leaf.length === 32 && proof.every((p) => p.length === 32)) {
      const r = await v.inclusionRoot(new Uint8Array(leaf), idx, size, proof);
      ok = r !== null && v.equal(r, new Uint8Array(root));
    }
    assert.equal(ok, !j.wantErr, `${path.relative(vectors, f)}: ${j.desc}`);
    if (ok) good++;
  }
  assert.ok(good > 5, `only ${good} proofs verified`);
});

test('signed-note vectors: keys parse, signatures verify or fail as expected', async () => {
  const { vectors: vs } = JSON.parse(fs.readFileSync(path.join(vectors, 'signed-note/signed-note-vectors.json'), 'utf8'));
  assert.ok(vs.length >= 4);
  for (const t of vs) {
    const key = await v.parseVkey(t.vkey);
    const r = await v.checkLogSignature(v.parseNote(t.note), key);
    assert.equal(r.ok, t.expect === 'valid', `${t.name}: ${r.why}`);
  }
});

test('a vkey whose key ID does not match its name is refused', async () => {
  await assert.rejects(v.parseVkey('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), /key ID/);
  await assert.rejects(v.parseVkey('Peter+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), /key ID/);
});

test('confirmation codes: base64 and base64url, with or without padding; anything else refused', () => {
  const code = 'rITQAwIvgvh0BLN3CZpcG/27bX1M6INH+38YPiVm8VE=';
  const bytes = v.parseCode(code);
  assert.equal(bytes.length, 32);
  assert.equal(v.b64encode(v.parseCode(v.b64url(bytes))), code);
  assert.equal(v.b64encode(v.parseCode(` ${code.slice(0, 20)} ${code.slice(20)}\n`)), code);
  for (const bad of ['', 'hello', code.slice(1), `${code}A`, code.replace('r', '!'), 'rITQAwIvgvh0BLN3CZpcG/27bX1M6INH+38YPiVm8VF=']) {
    assert.throws(() => v.parseCode(bad), undefined, bad);
  }
});

test('base64 is canonical only', () => {
  assert.deepEqual(Array.from(v.b64decode('AAE=')), [0, 1]);
  for (const bad of ['AAF=', 'AAE', 'AA==x', 'A===', '====', 'AA E=']) assert.throws(() => v.b64decode(bad), undefined, bad);
});

test('checkpoints: size and root strictly', () => {
  const root = Buffer.alloc(32, 7).toString('base64');
  const c = v.parseCheckpoint(`o.example/log\n12\n${root}\n`);
  assert.equal(c.size, 12n);
  assert.equal(c.origin, 'o.example/log');
  for (const bad of [`o\n012\n${root}\n`, `o\n-1\n${root}\n`, `o\n12\n${root}`, `\n12\n${root}\n`, 'o\n12\nAAE=\n',
    `o\n9223372036854775808\n${root}\n`]) {
    assert.throws(() => v.parseCheckpoint(bad), undefined, JSON.stringify(bad));
  }
});
