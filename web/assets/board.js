// "Board" (board.html): the latest checkpoint, its log signature and each
// witness's cosignature, checked in the browser.
import * as v from './verify.js';
import { el, say, get, reason, WORDS, MARKS } from './ui.js';

const $ = (id) => document.getElementById(id);

function setFact(id, text, status) {
  const dd = $(id);
  dd.replaceChildren(status ? el('span', { class: `mark ${status}`, 'aria-hidden': 'true' }, MARKS[status]) : '',
    status ? el('span', { class: 'word' }, `${WORDS[status]}: `) : '', text);
  if (status) {
    dd.setAttribute('data-status', status);
    dd.className = `fact ${status}`;
  }
}

async function load() {
  $('refresh').disabled = true;
  say('Reading the board\u2026');
  const tbody = $('witnesses').querySelector('tbody');
  tbody.replaceChildren();
  const support = await v.cryptoSupport();
  const [cr, lr, wr] = await Promise.all([get('/board/checkpoint'), get('/board/log.vkey'),
    get('/board/witnesses.vkey')]);
  try {
    if (cr.status !== 200) throw new Error(`the checkpoint: ${reason(cr)}`);
    if (lr.status !== 200) throw new Error(`the board's key: ${reason(lr)}`);
    if (wr.status !== 200) throw new Error(`the witnesses' keys: ${reason(wr)}`);
    if (!support.sha256) throw new Error(support.why);
    const note = v.parseNote(cr.text);
    const c = v.parseCheckpoint(note.text);
    setFact('board-size', String(c.size));
    setFact('board-origin', c.origin);
    setFact('board-root', `${v.b64encode(c.root)} (hex ${v.hex(c.root)})`);
    const logKey = await v.parseVkey(lr.text.trim());
    const wkeys = await v.parseVkeys(wr.text);
    if (!support.ed25519) {
      setFact('board-logsig', support.why, 'unable');
      setFact('board-quorum', support.why, 'unable');
      for (const w of wkeys) {
        tbody.append(el('tr', { 'data-witness': w.name, 'data-status': 'unable' }, el('th', { scope: 'row' }, w.name),
          el('td', { class: 'hash' }, v.hex(w.id)), el('td', {}, 'Not checked'), el('td', {}, '\u2014')));
      }
      say('The board was read, but this browser could not check its signatures.');
      return;
    }
    const r = await v.checkCheckpoint(cr.text, logKey, wkeys);
    setFact('board-logsig', r.log.ok ? `signed by ${logKey.name} (key ID ${v.hex(logKey.id)})` : r.log.why,
      r.log.ok ? 'pass' : 'fail');
    const bad = r.witnesses.filter((w) => w.status === 'bad').length;
    const quorumOk = r.cosigned >= r.quorum && !bad;
    setFact('board-quorum', `${r.cosigned} of the ${r.witnesses.length} witnesses listed cosigned this version ` +
      `(${r.quorum} needed)${bad ? `; ${bad} cosignature${bad > 1 ? 's do' : ' does'} not verify` : ''}`,
    quorumOk ? 'pass' : 'fail');
    for (const w of r.witnesses) {
      const word = w.status === 'ok' ? 'Verified' : w.status === 'absent' ? 'None on this version'
        : `FAILED: ${w.why}`;
      tbody.append(el('tr', { 'data-witness': w.key.name, 'data-status': w.status },
        el('th', { scope: 'row' }, w.key.name), el('td', { class: 'hash' }, v.hex(w.key.id)),
        el('td', {}, el('span', { class: `mark ${w.status === 'ok' ? 'pass' : w.status === 'bad' ? 'fail' : 'info'}`,
          'aria-hidden': 'true' }, w.status === 'ok' ? MARKS.pass : w.status === 'bad' ? MARKS.fail : '\u2013'),
        ` ${word}`),
        el('td', { 'data-time': w.time !== undefined ? String(w.time) : '' },
          w.status === 'ok' ? v.utcTime(w.time) : '\u2014')));
    }
    say(r.log.ok && quorumOk ? `The board has ${c.size} entries; its signatures verify.`
      : 'The board\u2019s signatures do NOT all verify: see the details below.');
  } catch (e) {
    setFact('board-size', `The board could not be read: ${e.message}`, 'fail');
    say(`The board could not be read: ${e.message}`);
  } finally {
    $('refresh').disabled = false;
  }
}

$('refresh').addEventListener('click', () => load());
load();
