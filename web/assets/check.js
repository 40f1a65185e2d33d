// "Check my ballot" (index.html): the voter's receipt, checked in the
// browser. docs/pages.md lists each check and what it cannot show.
import * as v from './verify.js';
import { el, say, get, reason, WORDS, MARKS } from './ui.js';

const form = document.getElementById('check-form');
const input = document.getElementById('code');
const inputError = document.getElementById('code-error');
const button = document.getElementById('check-button');
const result = document.getElementById('result');
const heading = document.getElementById('result-heading');
const verdictBox = document.getElementById('verdict');
const list = document.getElementById('checks');
const keysList = document.getElementById('keys');

const ADVICE = 'Do not trust this server\u2019s answer: keep your code and tell an observer.';

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  check(input.value).catch((e) => {
    finish('error', 'The check stopped on an unexpected error', [`${e.message}. ${ADVICE}`]);
  });
});

function showInputError(text) {
  inputError.textContent = text;
  inputError.hidden = !text;
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

// One line of the list: what was checked, its outcome in words, the details.
function item(id, status, title, detail, meaning) {
  return el('li', { class: `check ${status}`, 'data-check': id, 'data-status': status },
    el('span', { class: 'mark', 'aria-hidden': 'true' }, MARKS[status]),
    el('span', { class: 'word' }, `${WORDS[status]}: `),
    el('strong', {}, title),
    detail ? el('p', { class: 'detail' }, detail) : null,
    status === 'fail' && meaning ? el('p', { class: 'meaning' }, `What this means: ${meaning}`) : null);
}

function finish(kind, headline, lines) {
  verdictBox.replaceChildren(
    el('p', { class: 'headline' }, headline),
    ...lines.map((l) => el('p', {}, l)));
  verdictBox.className = `verdict ${kind}`;
  verdictBox.setAttribute('data-verdict', kind);
  result.hidden = false;
  button.disabled = false;
  say(`${headline}.`);
  heading.focus();
}

async function check(text) {
  showInputError('');
  list.replaceChildren();
  keysList.replaceChildren();
  verdictBox.replaceChildren();
  verdictBox.removeAttribute('data-verdict');
  result.hidden = true;

  let code;
  try {
    code = v.parseCode(text);
  } catch (e) {
    showInputError(e.message);
    say(e.message);
    input.focus();
    return;
  }
  button.disabled = true;
  say('Checking your ballot\u2026');
  const support = await v.cryptoSupport();
  if (!support.sha256) {
    finish('unable', 'Nothing was checked', [support.why]);
    return;
  }

  const codeB64 = v.b64encode(code);
  const [rr, lr, wr] = await Promise.all([
    get(`/api/v1/receipts/${v.b64url(code)}`), get('/board/log.vkey'), get('/board/witnesses.vkey')]);
  if (rr.status === 404) {
    finish('notfound', 'There is no such ballot on this board', [
      `The server says: \u201c${reason(rr)}\u201d.`,
      'Check that you typed the code exactly. A ballot cast in the last few minutes may not be on a ' +
      'cosigned board yet: try again a little later. If it is still not there, keep your code and tell an observer.']);
    return;
  }
  if (rr.status !== 200 || lr.status !== 200 || wr.status !== 200) {
    const bad = rr.status !== 200 ? rr : lr.status !== 200 ? lr : wr;
    finish('error', 'The server did not give what the check needs', [`${reason(bad)}.`,
      'Nothing was verified. Try again later; if it keeps failing, keep your code and tell an observer.']);
    return;
  }

  // the keys (from this same server: docs/pages.md)
  let logKey;
  let witnessKeys;
  try {
    logKey = await v.parseVkey(lr.text.trim());
    witnessKeys = await v.parseVkeys(wr.text);
  } catch (e) {
    finish('error', 'The board\u2019s keys are unusable', [`${e.message}.`, ADVICE]);
    return;
  }
  keysList.append(el('li', {}, `Board (log): ${logKey.name}, key ID ${v.hex(logKey.id)}`),
    ...witnessKeys.map((w) => el('li', {}, `Witness: ${w.name}, key ID ${v.hex(w.id)}`)));

  const items = [];
  const failed = [];
  const add = (id, status, title, detail, meaning) => {
    items.push(item(id, status, title, detail, meaning));
    if (status !== 'pass') failed.push(title);
  };

  // 1. the receipt
  let receipt = null;
  let entry = null;
  try {
    receipt = v.parseReceipt(rr.text);
    if (!receipt.entry) throw new Error('the receipt carries no entry');
    add('receipt', 'pass', 'The server gave a receipt in the expected format', 'A C2SP tlog-proof: your ' +
      `ballot's board entry, its position (${receipt.index}), a proof of ${receipt.proof.length} hashes and ` +
      'the signed board version (checkpoint).');
  } catch (e) {
    add('receipt', 'fail', 'The server gave a receipt in the expected format', `It did not: ${e.message}.`,
      'the server\u2019s answer cannot be checked.');
  }

  // 2. the entry is this ballot's
  if (receipt) {
    try {
      entry = v.parseEntry(receipt.entry);
      if (entry.code === codeB64) {
        add('entry', 'pass', 'The receipt is for your ballot', `Its board entry carries your code, for the ` +
          `file ${entry.path}.`);
      } else {
        add('entry', 'fail', 'The receipt is for your ballot', entry.code
          ? `Its board entry carries another code (${entry.code}).` : 'Its board entry carries no code at all.',
        'the server answered with a proof about something else than your ballot.');
      }
    } catch (e) {
      add('entry', 'fail', 'The receipt is for your ballot', `Its entry is not a board entry: ${e.message}.`,
        'the server answered with a proof about something else than your ballot.');
    }
  }

  // 3-4. the checkpoint: the log's signature, the witnesses
  let cp = null;
  if (receipt) {
    cp = support.ed25519 ? await v.checkCheckpoint(receipt.note, logKey, witnessKeys) : null;
    const sigTitle = 'The board\u2019s operator signed this version of the board';
    const witTitle = 'Enough independent witnesses cosigned it';
    if (!support.ed25519) {
      add('log', 'unable', sigTitle, support.why);
      add('witnesses', 'unable', witTitle, support.why);
    } else if (cp.parseError) {
      add('log', 'fail', sigTitle, `The receipt's checkpoint is malformed: ${cp.parseError}.`,
        'the board version cannot be checked.');
      add('witnesses', 'fail', witTitle, 'The checkpoint could not be read.', 'the board version cannot be checked.');
    } else {
      const c = cp.checkpoint;
      add('log', cp.log.ok ? 'pass' : 'fail', sigTitle, cp.log.ok
        ? `Board ${c.origin}, ${c.size} entries, root ${v.b64encode(c.root)}: signed by the board's key.`
        : `${cp.log.why}.`,
      'the board version in the receipt is not one the board\u2019s key signed: it may be forged or altered.');
      const ok = cp.cosigned >= cp.quorum;
      const lines = cp.witnesses.map((w) => el('li', { 'data-witness': w.key.name, 'data-status': w.status },
        `${w.key.name}: `, w.status === 'ok' ? `cosigned at ${v.utcTime(w.time)}`
          : w.status === 'absent' ? 'did not cosign this version' : `FAILED: ${w.why}`));
      const bad = cp.witnesses.filter((w) => w.status === 'bad').length;
      add('witnesses', ok && !bad ? 'pass' : 'fail', witTitle,
        `${cp.cosigned} of the ${cp.witnesses.length} witnesses listed cosigned it (${cp.quorum} needed)` +
        (bad ? `, and ${bad} cosignature${bad > 1 ? 's do' : ' does'} not verify.` : '.'),
        'without enough witnesses, this server could be showing you a board that others do not see.');
      items[items.length - 1].append(el('ul', { class: 'witnesses' }, lines));
    }
  }

  // 5. inclusion
  if (receipt) {
    const title = 'Your ballot is in that version of the board (inclusion proof)';
    let c = cp && cp.checkpoint;
    if (!c) {
      try {
        c = v.parseCheckpoint(v.parseNote(receipt.note).text);
      } catch (e) {
        c = null;
      }
    }
    if (!c) {
      add('inclusion', 'fail', title, 'The checkpoint could not be read, so there is no root to check against.',
        'the proof cannot be checked.');
    } else {
      const root = await v.inclusionRoot(await v.leafHash(receipt.entry), receipt.index, c.size, receipt.proof);
      if (root && v.equal(root, c.root)) {
        add('inclusion', 'pass', title, `Entry ${receipt.index} of ${c.size}: the ${receipt.proof.length} proof ` +
          'hashes lead from your ballot\u2019s entry to the board\u2019s root.');
      } else {
        add('inclusion', 'fail', title, root
          ? `The proof leads to another root than the checkpoint's (entry ${receipt.index} of ${c.size}).`
          : `The proof does not have the shape of a proof for entry ${receipt.index} of ${c.size}.`,
        'the proof does not put your ballot on this board.');
      }
    }
  }

  list.replaceChildren(...items);
  if (!failed.length) {
    finish('verified', 'Verified: your ballot is on the board', [
      `Your ballot (code ${codeB64}) is entry ${receipt.index} of the board ${cp.checkpoint.origin}, in a ` +
      `version of ${cp.checkpoint.size} entries signed by the board and cosigned by ${cp.cosigned} of ` +
      `${cp.witnesses.length} witnesses.`,
      'Keep your code: you can check again at any time, and so can anyone you give it to.']);
  } else if (items.some((i) => i.dataset.status === 'fail')) {
    finish('failed', 'NOT verified', [ADVICE, `Failed: ${failed.join('; ')}.`]);
  } else {
    finish('unable', 'NOT verified: this browser could not do every check', [support.why || '',
      `Not checked: ${failed.join('; ')}.`]);
  }
}
