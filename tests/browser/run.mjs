// The pages of `detente serve` in a real browser (Debian's chromium,
// headless, driven by playwright-core): tests/cli/browser.sh runs it as
//   node run.mjs DETENTE WORK_DIR
// One voting election (ballots cast over HTTP, then published) and one
// finished election; three servers; one browser; every page check in it.
// Prints "ok: ..." or "FAIL: ..." per check and "N passed, N failed".
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [dt, work] = process.argv.slice(2);
if (!dt || !work) {
  console.error('usage: node run.mjs DETENTE WORK_DIR');
  process.exit(2);
}
const chromePath = process.env.DT_CHROMIUM || '/usr/bin/chromium';
const sanitized = process.env.DT_SANITIZED === '1';
// generous: make check runs it beside the long tests on a loaded machine
const TIMEOUT = sanitized ? 90000 : 60000;

let passed = 0;
let failed = 0;
const servers = [];

function log(line) {
  process.stdout.write(`${line}\n`);
}

async function check(name, fn) {
  try {
    await fn();
    passed++;
    log(`ok: ${name}`);
  } catch (e) {
    failed++;
    log(`FAIL: ${name}: ${e.message.split('\n').slice(0, 6).join('\n    ')}`);
  }
}

function expect(cond, what) {
  if (!cond) throw new Error(what);
}

function run(...args) {
  return execFileSync(dt, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// Starts `detente serve DIR` on a free port; resolves to its base URL.
function serve(dir, name, extra = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(dt, ['serve', dir, '--listen', '127.0.0.1:0', '--publish-every', '0', ...extra],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    const logFile = path.join(work, `serve-${name}.log`);
    const out = fs.createWriteStream(logFile);
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${name}: the server did not start (${logFile})`)), TIMEOUT);
    p.stderr.on('data', (d) => {
      out.write(d);
      buf += d;
      const m = /serving .* on port (\d+)/.exec(buf);
      if (m && !p.url) {
        p.url = `http://127.0.0.1:${m[1]}`;
        clearTimeout(timer);
        resolve(p.url);
      }
    });
    p.on('exit', (code, sig) => {
      p.exitCode2 = code;
      p.exitSig = sig;
      out.end();
      if (!p.url) {
        clearTimeout(timer);
        reject(new Error(`${name}: the server exited (${code}); see ${logFile}`));
      }
    });
    p.name = name;
    servers.push(p);
  });
}

async function stopServers() {
  for (const p of servers) {
    if (p.exitCode2 === undefined && p.exitSig === undefined) {
      const done = new Promise((r) => p.on('exit', r));
      p.kill('SIGTERM');
      await done;
    }
  }
}

const b64url = (b64) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

// ---- the elections ----

fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const vote = path.join(work, 'vote');
const full = path.join(work, 'full');
const small = ['--guardians', '3', '--quorum', '2', '--absent', '1', '--quiet'];
run('demo', '--until', 'voting', '--ballots', '2', ...small, '--out', vote);
run('demo', '--ballots', '6', ...small, '--out', full);

// two ballots encrypted by a device
const ballots = [1, 2].map((i) => {
  const body = run('encrypt', '--allow-overvote', vote, path.join(vote, 'private_data/input', `pballot-ballot-${i}.json`));
  return { body, code: JSON.parse(body).confirmation_code };
});

let browser;
try {
  const urlA = await serve(vote, 'vote');
  // cast over HTTP, then publish: the board's checkpoint now covers them
  for (const b of ballots) {
    const r = await fetch(`${urlA}/api/v1/ballots`, { method: 'POST', body: b.body });
    if (r.status !== 201) throw new Error(`casting a ballot: ${r.status} ${await r.text()}`);
  }
  run('board', 'publish', vote);

  // B: a copy whose witnesses.vkey lists other keys under the same names
  const other = path.join(work, 'other');
  fs.cpSync(vote, other, { recursive: true });
  const names = fs.readFileSync(path.join(vote, 'board/witnesses.vkey'), 'utf8').trim().split('\n')
    .map((l) => l.split('+')[0]);
  const fakes = names.map((n, i) => {
    run('witness', 'init', path.join(work, `fake-w${i}`), '--name', n);
    return fs.readFileSync(path.join(work, `fake-w${i}`, 'witness.vkey'), 'utf8').trim();
  });
  fs.writeFileSync(path.join(other, 'board/witnesses.vkey'), `${fakes.join('\n')}\n`);
  const urlB = await serve(other, 'other');
  const urlC = await serve(full, 'full');

  browser = await chromium.launch({ executablePath: chromePath, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext();
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // a fetch answered 404 is logged as "Failed to load resource": expected
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });

  // Enters a code on / and waits for the verdict: { verdict, checks }.
  async function checkCode(base, code, p = page) {
    await p.goto(`${base}/`);
    await p.getByLabel('Your confirmation code').fill(code);
    await p.getByLabel('Your confirmation code').press('Enter'); // the keyboard submits the form
    const v = await p.waitForSelector('#verdict[data-verdict]');
    const checks = await p.$$eval('#checks > li', (ls) => Object.fromEntries(ls.map((l) =>
      [l.dataset.check, { status: l.dataset.status, text: l.textContent }])));
    return { verdict: await v.getAttribute('data-verdict'), text: await v.textContent(), checks };
  }
  const ALL = ['receipt', 'entry', 'log', 'witnesses', 'inclusion'];
  function onlyFails(res, fails) {
    expect(res.verdict === 'failed', `verdict ${res.verdict}, expected failed: ${res.text}`);
    expect(!/^\s*Verified/.test(res.text), 'the page says Verified');
    expect(/tell an observer/.test(res.text), 'no advice to tell an observer');
    for (const c of ALL) {
      const want = fails.includes(c) ? 'fail' : 'pass';
      expect(res.checks[c] && res.checks[c].status === want,
        `check ${c} is ${res.checks[c] && res.checks[c].status}, expected ${want}`);
    }
  }

  // ---- Check my ballot ----
  await check('check my ballot: a ballot cast over HTTP and published passes every check', async () => {
    const res = await checkCode(urlA, ballots[0].code);
    expect(res.verdict === 'verified', `verdict ${res.verdict}: ${res.text}`);
    for (const c of ALL) expect(res.checks[c] && res.checks[c].status === 'pass', `check ${c}: ${JSON.stringify(res.checks[c])}`);
    expect(res.text.includes(ballots[0].code), 'the verdict does not name the code');
    expect(await page.locator('#status').textContent() !== '', 'nothing announced in the status region');
  });
  await check('check my ballot: the code in base64url without padding', async () => {
    const res = await checkCode(urlA, ` ${b64url(ballots[1].code)} `);
    expect(res.verdict === 'verified', `verdict ${res.verdict}: ${res.text}`);
  });
  await check('check my ballot: an unknown code is no such ballot', async () => {
    const res = await checkCode(urlA, randomBytes(32).toString('base64'));
    expect(res.verdict === 'notfound', `verdict ${res.verdict}`);
    expect(/no such ballot/i.test(res.text), res.text);
  });
  await check('check my ballot: text that is not a code is refused before asking the server', async () => {
    await page.goto(`${urlA}/`);
    await page.getByLabel('Your confirmation code').fill('not a code');
    await page.getByRole('button', { name: 'Check my ballot' }).click();
    await page.waitForSelector('#code-error:not([hidden])');
    expect(await page.getAttribute('#code', 'aria-invalid') === 'true', 'the input is not marked invalid');
    expect(await page.isHidden('#result'), 'a result is shown');
  });

  // a server (or anything between) that tampers with the receipt
  async function tampered(name, fn, fails, code = ballots[0].code) {
    await check(`check my ballot, tampered receipt: ${name}`, async () => {
      await page.route('**/api/v1/receipts/**', async (route) => {
        const resp = await route.fetch();
        await route.fulfill({ response: resp, body: await fn(await resp.text(), route) });
      });
      try {
        onlyFails(await checkCode(urlA, code), fails);
      } finally {
        await page.unrouteAll({ behavior: 'wait' });
      }
    });
  }
  const flip = (b64) => {
    const b = Buffer.from(b64, 'base64');
    b[0] ^= 1;
    return b.toString('base64');
  };
  await tampered('the checkpoint\'s root changed', (t) => {
    const lines = t.split('\n');
    const at = lines.indexOf('') + 3; // origin, size, root
    lines[at] = flip(lines[at]);
    return lines.join('\n');
  }, ['log', 'witnesses', 'inclusion']);
  await tampered('two of three cosignatures removed (quorum 2)', (t) => {
    let removed = 0;
    return t.split('\n').filter((l) => !(l.startsWith('\u2014 witness-') && removed++ < 2)).join('\n');
  }, ['witnesses']);
  await tampered('a proof hash changed', (t) => {
    const lines = t.split('\n');
    const at = lines.findIndex((l) => l.startsWith('index ')) + 1;
    lines[at] = flip(lines[at]);
    return lines.join('\n');
  }, ['inclusion']);
  await tampered('the receipt of another ballot', async (t, route) => {
    const r = await fetch(`${urlA}/api/v1/receipts/${b64url(ballots[1].code)}`);
    return r.text();
  }, ['entry']);
  await check('check my ballot: a served witnesses.vkey that lists other keys', async () => {
    onlyFails(await checkCode(urlB, ballots[0].code), ['witnesses']);
  });
  await check('check my ballot: without Ed25519 in the browser it says so and claims nothing', async () => {
    const ctx = await browser.newContext();
    ctx.setDefaultTimeout(TIMEOUT);
    await ctx.addInitScript(() => {
      const orig = crypto.subtle.importKey.bind(crypto.subtle);
      crypto.subtle.importKey = (f, k, alg, ...rest) =>
        ((alg === 'Ed25519' || (alg && alg.name === 'Ed25519'))
          ? Promise.reject(new DOMException('Unrecognized algorithm name', 'NotSupportedError'))
          : orig(f, k, alg, ...rest));
    });
    const p = await ctx.newPage();
    const res = await checkCode(urlA, ballots[0].code, p);
    await ctx.close();
    expect(res.verdict === 'unable', `verdict ${res.verdict}: ${res.text}`);
    expect(/cannot check Ed25519/.test(res.text), res.text);
    expect(res.checks.log.status === 'unable' && res.checks.witnesses.status === 'unable', JSON.stringify(res.checks));
  });

  // ---- Board ----
  await check('board: the size, origin, log signature, and each witness with its cosignature time (UTC)', async () => {
    const cp = fs.readFileSync(path.join(full, 'board/checkpoint'), 'utf8');
    const [origin, size] = cp.split('\n');
    const times = {};
    for (const l of cp.split('\n').filter((x) => x.startsWith('\u2014 witness-'))) {
      const [, name, sig] = l.split(' ');
      const t = Buffer.from(sig, 'base64').readBigUInt64BE(4);
      times[name] = new Date(Number(t) * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    }
    await page.goto(`${urlC}/board.html`);
    await page.waitForSelector('#board-quorum[data-status="pass"]');
    expect((await page.textContent('#board-size')).trim() === size, `size ${await page.textContent('#board-size')}, expected ${size}`);
    expect((await page.textContent('#board-origin')).trim() === origin, 'origin');
    expect(await page.getAttribute('#board-logsig', 'data-status') === 'pass', 'the log signature is not shown as passed');
    const rows = await page.$$eval('#witnesses tbody tr', (rs) => rs.map((r) => ({
      name: r.dataset.witness, status: r.dataset.status, time: r.cells[3].textContent.trim() })));
    expect(rows.length === 3, `${rows.length} witnesses shown`);
    for (const r of rows) {
      expect(r.status === 'ok', `${r.name}: ${r.status}`);
      expect(times[r.name] && r.time === times[r.name], `${r.name}: time ${r.time}, expected ${times[r.name]}`);
    }
  });

  // ---- Results ----
  const tallyPath = path.join(full, 'tally.json');
  const tallyBytes = fs.readFileSync(tallyPath);
  const manifest = JSON.parse(fs.readFileSync(path.join(full, 'manifest.json'), 'utf8'));
  async function resultsVerdict() {
    await page.goto(`${urlC}/results.html`);
    const v = await page.waitForSelector('#verdict[data-verdict]:not([data-verdict="pending"])');
    return v.getAttribute('data-verdict');
  }
  await check('results: the tally numbers are the record\'s, with a chart and a table per contest', async () => {
    expect(await resultsVerdict() === 'verified', 'not verified');
    const tally = JSON.parse(tallyBytes.toString('utf8'));
    let n = 0;
    for (const c of tally.contests) {
      for (const s of c.selections) {
        const cell = page.locator(`section[data-contest="${c.contest_id}"] tr[data-option="${s.selection_id}"] td.num`);
        const got = (await cell.textContent()).trim();
        expect(got === String(s.tally), `${c.contest_id}/${s.selection_id}: ${got}, the record says ${s.tally}`);
        n++;
      }
    }
    expect(n > 0, 'no numbers checked');
    const charts = await page.$$eval('svg.chart', (ss) => ss.map((s) => ({
      id: s.dataset.contest, title: s.querySelector('title') && s.querySelector('title').textContent,
      labels: Array.from(s.querySelectorAll('text.label'), (t) => t.textContent) })));
    expect(charts.length === manifest.contests.length, `${charts.length} charts for ${manifest.contests.length} contests`);
    for (const ch of charts) expect(ch.title && ch.labels.length > 0, `chart ${ch.id} has no title or labels`);
  });
  await check('results: the record downloads as a tar that tar lists and detente verify accepts', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#record-link')]);
    const tar = path.join(work, 'record.tar');
    await dl.saveAs(tar);
    const listing = execFileSync('tar', ['-tvf', tar], { encoding: 'utf8' });
    expect(/detente-record\/tally\.json/.test(listing) && /detente-record\/board\/checkpoint/.test(listing),
      'tally.json or board/checkpoint missing');
    expect(!/private_data/.test(listing), 'private_data in the archive');
    const out = path.join(work, 'extracted');
    fs.mkdirSync(out);
    execFileSync('tar', ['-xf', tar, '-C', out]);
    const v = execFileSync(dt, ['verify', '--quiet', '--require-board', path.join(out, 'detente-record')],
      { encoding: 'utf8' });
    expect(/verdict: VALID/.test(v), v);
  });
  await check('results: a record that does not verify shows no numbers, then verified again once restored', async () => {
    const t = JSON.parse(tallyBytes.toString('utf8'));
    t.contests[0].selections[0].tally += 1;
    fs.writeFileSync(tallyPath, JSON.stringify(t, null, 4));
    try {
      expect(await resultsVerdict() === 'invalid', 'the changed tally is not refused');
      expect(await page.locator('table').count() === 0, 'numbers shown for a record that does not verify');
      expect(await page.locator('#steps li[data-status="fail"]').count() > 0, 'no failing step listed');
    } finally {
      fs.writeFileSync(tallyPath, tallyBytes);
    }
    expect(await resultsVerdict() === 'verified', 'not verified again after the restore');
  });
  await check('results: none while voting is open', async () => {
    await page.goto(`${urlA}/results.html`);
    const v = await page.waitForSelector('#verdict[data-verdict]');
    expect(await v.getAttribute('data-verdict') === 'none', await v.textContent());
  });

  // ---- every page: landmarks, one h1, no script or CSP error ----
  await check('pages: one h1, main and nav landmarks, no script or Content-Security-Policy error', async () => {
    for (const p of ['/', '/board.html', '/results.html']) {
      await page.goto(`${urlC}${p}`);
      expect(await page.locator('h1').count() === 1, `${p}: not one h1`);
      expect(await page.getByRole('main').count() === 1, `${p}: no main`);
      expect(await page.getByRole('navigation').count() === 1, `${p}: no nav`);
      expect(await page.locator('nav a[aria-current="page"]').count() === 1, `${p}: no current page in nav`);
    }
    expect(problems.length === 0, problems.join('; '));
  });
} catch (e) {
  failed++;
  log(`FAIL: ${e.stack || e.message}`);
} finally {
  if (browser) await browser.close();
  await stopServers();
  for (const p of servers) {
    if (p.exitCode2 !== 0) {
      failed++;
      log(`FAIL: the server of ${p.name} exited with ${p.exitCode2 ?? p.exitSig} (see serve-${p.name}.log)`);
    }
  }
}
log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
