// "Results" (results.html): the tally, as the server verified it, per
// contest as a table and a bar chart; or why there is none.
import { el, svg, say, get, reason, MARKS } from './ui.js';

const $ = (id) => document.getElementById(id);
let tries = 0;

function verdict(kind, headline, ...lines) {
  const box = $('verdict');
  box.replaceChildren(el('p', { class: 'headline' }, headline), ...lines.map((l) => el('p', {}, l)));
  box.className = `verdict ${kind}`;
  box.setAttribute('data-verdict', kind);
  box.hidden = false;
  say(`${headline}.`);
}

// A horizontal bar chart: each option's label, bar and number as text, so
// that nothing depends on colour; the table beside it has the same numbers.
function chart(contest, titleId) {
  const rowH = 34;
  const labelW = 190;
  const barW = 300;
  const h = contest.options.length * rowH + 10;
  const max = Math.max(1, ...contest.options.map((o) => o.votes));
  const s = svg('svg', { viewBox: `0 0 ${labelW + barW + 70} ${h}`, width: '100%', role: 'img',
    'aria-labelledby': titleId, class: 'chart', 'data-contest': contest.id });
  s.append(svg('title', { id: titleId }, `Bar chart of the votes for ${contest.label}; the table has the numbers`));
  contest.options.forEach((o, i) => {
    const y = 5 + i * rowH;
    const w = Math.round((o.votes / max) * barW);
    s.append(
      svg('text', { x: labelW - 8, y: y + rowH / 2 + 5, 'text-anchor': 'end', class: 'label' }, o.label),
      svg('rect', { x: labelW, y: y + 4, width: Math.max(w, 1), height: rowH - 10, class: 'bar' }),
      svg('text', { x: labelW + Math.max(w, 1) + 6, y: y + rowH / 2 + 5, class: 'value' }, String(o.votes)));
  });
  return s;
}

function showContests(res) {
  const box = $('contests');
  box.replaceChildren(...res.contests.map((c, n) => {
    const hid = `contest-${n}`;
    const total = c.options.reduce((t, o) => t + o.votes, 0);
    return el('section', { class: 'contest', 'aria-labelledby': hid, 'data-contest': c.id },
      el('h2', { id: hid }, c.label),
      el('p', { class: 'help' }, `Up to ${c.votes_allowed} choice${c.votes_allowed > 1 ? 's' : ''} per ballot; ` +
        `${total} vote${total === 1 ? '' : 's'} in all.`),
      el('div', { class: 'contest-body' },
        el('figure', {}, chart(c, `chart-${n}`)),
        el('table', {},
          el('caption', {}, `Votes for ${c.label}`),
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Choice'), el('th', { scope: 'col' }, 'Votes'))),
          el('tbody', {}, c.options.map((o) => el('tr', { 'data-option': o.id },
            el('th', { scope: 'row' }, o.label), el('td', { class: 'num', 'data-votes': String(o.votes) },
              String(o.votes))))))));
  }));
}

function showSteps(res) {
  const ol = $('steps');
  const items = (res.steps || []).map((s) => el('li', { 'data-step': s.step, 'data-status': s.status },
    el('span', { class: 'mark', 'aria-hidden': 'true' }, s.status === 'pass' ? MARKS.pass
      : s.status === 'fail' ? MARKS.fail : '\u2013'),
    ` ${s.status === 'pass' ? 'Passed' : s.status === 'fail' ? 'FAILED' : 'Not applicable'}: step ${s.step}, ${s.name}`,
    s.status === 'pass' && s.checked ? ` (${s.checked} checked)` : '',
    s.messages && s.messages.length ? el('ul', {}, s.messages.map((m) => el('li', {}, m))) : null));
  if (res.board) {
    for (const b of res.board.checks || []) {
      items.push(el('li', { 'data-board-check': b.name, 'data-status': b.status },
        el('span', { class: 'mark', 'aria-hidden': 'true' }, b.status === 'pass' ? MARKS.pass
          : b.status === 'fail' ? MARKS.fail : '\u2013'),
        ` ${b.status === 'pass' ? 'Passed' : b.status === 'fail' ? 'FAILED' : 'Not checked'}: the board: ${b.name}`,
        b.messages && b.messages.length ? el('ul', {}, b.messages.map((m) => el('li', {}, m))) : null));
    }
  }
  ol.replaceChildren(...items);
  $('steps-section').hidden = false;
}

async function load() {
  say('Asking the server for the verified results\u2026');
  const r = await get('/api/v1/results');
  if (r.status === 200 && r.json && r.json.verified === true) {
    const res = r.json;
    verdict('verified', 'Verified results',
      `The server verified the whole record before showing these numbers: ${res.cast_ballots} ballots cast, ` +
      `${res.challenged_ballots} challenged (decrypted in the record, not counted)` +
      (res.board ? `; the board has ${res.board.size} entries, cosigned by ${res.board.cosigned} witnesses.` : '.'));
    $('download').hidden = false;
    showContests(res);
    showSteps(res);
  } else if (r.status === 404) {
    verdict('none', 'No results yet', `${reason(r)}.`);
  } else if (r.status === 409) {
    verdict('invalid', 'The record does NOT verify: the server shows no results',
      `${reason(r)}.`, 'The failing checks are listed below. Tell an observer.');
    $('download').hidden = false;
    if (r.json) showSteps(r.json);
  } else if (r.status === 503 && tries < 60) {
    tries++;
    const wait = Math.min(30, Number((r.headers && r.headers.get('retry-after')) || 5));
    verdict('pending', 'Please wait', `${reason(r)}. This page asks again in ${wait} seconds.`);
    setTimeout(load, wait * 1000);
  } else {
    verdict('error', 'No results', `${reason(r)}.`);
  }
}

load();
