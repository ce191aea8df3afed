// The live view on a real terminal: tmux runs the real model and screen
// (test/live/fake-top.ts feeds them synthetic samples) and the tests read
// the captured screen: a row per CPU with non-zero rates, a loss in red,
// keys, resize, and the terminal restored after q, Ctrl-C, SIGTERM and a
// failing feed (alternate screen off, cursor shown, the tty back in
// canonical mode, checked by stty in the same pane).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TmuxSession, shellQuote, tmuxAvailable } from '../helpers/tmux.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = fs.mkdtempSync(join(os.tmpdir(), 'trtest-live-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const skip = tmuxAvailable() ? false : process.env.CI === 'true' ? false : 'tmux is not installed';
let pidFiles = 0;

/** Starts the fake live view in tmux; after it exits the pane prints its exit status and the tty mode. */
function startView(args: string[], size = { columns: 80, rows: 24 }): { tmux: TmuxSession; pidFile: string } {
  const pidFile = join(scratch, `pid-${++pidFiles}`);
  const view = [process.execPath, '--import', 'tsx', 'test/live/fake-top.ts', '--pid-file', pidFile, ...args].map(shellQuote).join(' ');
  // stty prints "icanon" once the view has put the terminal back, "-icanon" if it left it raw.
  const command = `sh -c ${shellQuote(`${view}; echo "EXIT=$?"; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; sleep 60`)}`;
  return { tmux: TmuxSession.start(command, { ...size, cwd: root }), pidFile };
}

const isFrame = (rows: string[]) => rows.some((r) => r.startsWith('cpu0 ')) && rows.some((r) => r.startsWith('q quit'));

/** Row of `label` in the CPU table, split in columns. */
function cpuRow(rows: string[], label: string): string[] {
  const row = rows.find((r) => r.startsWith(`${label} `));
  assert.ok(row, `no ${label} row in:\n${rows.join('\n')}`);
  return row.trim().split(/\s+/);
}

/** '23.3k' -> 23300 */
function figure(text: string): number {
  const m = /^([\d.]+)([kMG]?)$/.exec(text);
  assert.ok(m, `not a figure: ${text}`);
  return Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2] as string]!;
}

/**
 * The SGR attributes in force where `needle` starts on a captured row
 * (capture-pane -e): foreground colour and bold.
 */
function styleAt(row: string, needle: string): { fg: number | null; bold: boolean } {
  const at = row.replace(/\x1b\[[0-9;]*m/g, '').indexOf(needle);
  assert.ok(at >= 0, `${needle} not on ${JSON.stringify(row)}`);
  let fg: number | null = null;
  let bold = false;
  let visible = 0;
  const re = /\x1b\[([0-9;]*)m|[^\x1b]/g;
  for (let m = re.exec(row); m !== null; m = re.exec(row)) {
    if (m[1] === undefined) {
      if (visible === at) break;
      visible++;
      continue;
    }
    const codes = m[1] === '' ? [0] : m[1].split(';').map(Number);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (c === 0) {
        fg = null;
        bold = false;
      } else if (c === 1) bold = true;
      else if (c === 22) bold = false;
      else if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) fg = c;
      else if (c === 39) fg = null;
      else if (c === 38) i += codes[i + 1] === 5 ? 2 : 4;
    }
  }
  return { fg, bold };
}

async function assertRestored(tmux: TmuxSession, ended: RegExp): Promise<string[]> {
  const rows = await tmux.waitFor((r) => r.some((x) => x === 'icanon' || x === '-icanon'), 'the view to exit and stty to report');
  assert.ok(rows.some((r) => ended.test(r)), `expected ${ended} in:\n${rows.join('\n')}`);
  assert.ok(rows.includes('EXIT=0'), `exit status:\n${rows.join('\n')}`);
  assert.ok(rows.includes('icanon'), 'raw mode is off again');
  assert.equal(tmux.display('#{alternate_on}'), '0', 'alternate screen is off');
  assert.equal(tmux.display('#{cursor_flag}'), '1', 'cursor is shown');
  assert.ok(!rows.some((r) => r.startsWith('q quit')), 'the view is gone from the normal screen');
  return rows;
}

describe('live view in tmux', { skip }, () => {
  it('fits 80x24 with a row per CPU at non-zero rates, rings as rows, and a loss shown in red', async () => {
    using t = startView(['--cpus', '2', '--interval', '300', '--loss-after', '2', '--loss', '4321', '--ring', 'app']).tmux;
    const rows = await t.waitFor((r) => isFrame(r) && r.some((x) => x.includes('4321')), 'a frame with the loss');
    assert.equal(rows.length, 24);
    assert.ok(rows[0]!.startsWith('tracering top'), rows[0]);
    assert.ok(rows[23]!.startsWith('q quit'), 'the footer is on the last row');
    for (const label of ['cpu0', 'cpu1', 'app']) {
      const cols = cpuRow(rows, label);
      assert.ok(figure(cols[2]!) > 0, `${label} events/s: ${cols.join(' ')}`);
      assert.ok(Number(cols[3]) > 0, `${label} MB/s: ${cols.join(' ')}`);
    }
    assert.equal(cpuRow(rows, 'cpu1')[5], '4321', 'the loss figure, exact');
    assert.equal(cpuRow(rows, 'cpu0')[5], '0');
    assert.ok(rows[1]!.includes('lost 4321'), `header: ${rows[1]}`);
    const colour = t.capture(true);
    const cpu1 = colour.find((r) => r.replace(/\x1b\[[0-9;]*m/g, '').startsWith('cpu1 '))!;
    assert.equal(styleAt(cpu1, '4321').fg, 31, `the loss is red: ${JSON.stringify(cpu1)}`);
    const cpu0 = colour.find((r) => r.replace(/\x1b\[[0-9;]*m/g, '').startsWith('cpu0 '))!;
    assert.notEqual(styleAt(cpu0, ' 0 ').fg, 31, 'no loss, no red');
    assert.equal(styleAt(colour[1]!, 'lost 4321').fg, 31, 'the header total is red too');
    t.sendKeys('q');
    await assertRestored(t, /^fake-top: ended quit/);
  });

  it('keys: t/e switch the table, s cycles the sort, p pauses, z zeroes, ? shows help', async () => {
    using t = startView(['--cpus', '2', '--interval', '300']).tmux;
    await t.waitFor(isFrame, 'the first frame');
    t.sendKeys('t');
    await t.waitFor((r) => r.some((x) => x.startsWith('TASKS  sort: rate')) && r.some((x) => x.startsWith('stress-ng-9001')), 'the tasks table');
    t.sendKeys('s');
    await t.waitFor((r) => r.some((x) => x.startsWith('TASKS  sort: total')), 'sort by total');
    t.sendKeys('s');
    const byName = await t.waitFor((r) => r.some((x) => x.startsWith('TASKS  sort: name')), 'sort by name');
    const names = byName.slice(byName.findIndex((x) => x.startsWith('TASKS')) + 1, byName.length - 1).filter((x) => x.trim() !== '');
    assert.deepEqual(names.map((x) => x.split(/\s+/)[0]), ['bash-4242', 'kworker/0:1-77', 'node-812', 'stress-ng-9001', 'systemd-1']);
    t.sendKeys('e');
    await t.waitFor((r) => r.some((x) => x.startsWith('EVENTS  sort: name')), 'the events table');
    t.sendKeys('p');
    const paused = await t.waitFor((r) => r[0]!.includes('PAUSED'), 'the paused mark');
    const frozen = cpuRow(paused, 'cpu0').join(' ');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(cpuRow(t.capture(), 'cpu0').join(' '), frozen, 'rows frozen while paused');
    // Zero while paused: the frozen table empties (no tick can refill it until resumed).
    t.sendKeys('z');
    await t.waitFor((r) => r.some((x) => x.startsWith('EVENTS  sort: name  (0)  zeroed')) && !r.some((x) => x.startsWith('ftrace:print')), 'an empty table');
    t.sendKeys('p');
    await t.waitFor((r) => !r[0]!.includes('PAUSED') && r.some((x) => x.startsWith('ftrace:print')), 'resumed, counting again');
    t.sendKeys('?');
    await t.waitFor((r) => r.some((x) => x.includes('q  quit (also Ctrl-C)')), 'the help');
    t.sendKeys('x');
    await t.waitFor((r) => !r.some((x) => x.includes('q  quit (also Ctrl-C)')), 'any key closes the help');
    t.sendKeys('C-c');
    await assertRestored(t, /^fake-top: ended quit/);
  });

  it('redraws on resize, and says so when the terminal is too small', async () => {
    using t = startView(['--cpus', '3', '--interval', '300', '--loss-after', '0', '--loss', '77']).tmux;
    await t.waitFor(isFrame, 'the first frame');
    t.resize(120, 40);
    const big = await t.waitFor((r) => r.length === 40 && r[39]!.startsWith('q quit') && r[0]!.startsWith('tracering top'), 'a 120x40 frame');
    assert.ok(cpuRow(big, 'cpu2').length >= 8, 'sparklines on the wider screen');
    assert.ok(big.some((r) => r.startsWith('total ')), 'the total row');
    t.resize(50, 10);
    const small = await t.waitFor((r) => r[0]!.includes('is too sma'), 'the too-small notice');
    assert.ok(small[0]!.startsWith('lost 77 dropped 0'), `losses stay visible: ${small[0]}`);
    t.resize(80, 24);
    const back = await t.waitFor((r) => r.length === 24 && r[23]!.startsWith('q quit') && !r.some((x) => x.includes('too sma')), 'back to 80x24');
    assert.ok(back.every((r) => r.length <= 80));
    t.sendKeys('q');
    await assertRestored(t, /^fake-top: ended quit/);
  });

  it('SIGTERM ends it and restores the terminal', async () => {
    const { tmux, pidFile } = startView(['--cpus', '2', '--interval', '300']);
    using t = tmux;
    await t.waitFor(isFrame, 'the first frame');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(pid, 'SIGTERM');
    await assertRestored(t, /^fake-top: ended signal/);
  });

  it('a failing feed restores the terminal before the error is reported', async () => {
    using t = startView(['--cpus', '2', '--interval', '200', '--throw-after', '3']).tmux;
    // stty reports last, after the exit status: wait for it, then read everything.
    const rows = await t.waitFor((r) => r.includes('icanon') || r.includes('-icanon'), 'the view to fail and stty to report');
    assert.ok(rows.some((x) => x.startsWith('fake-top: failed fake feed failed')), rows.join('\n'));
    assert.ok(rows.includes('EXIT=3'), rows.join('\n'));
    assert.ok(rows.includes('icanon'), 'raw mode is off again');
    assert.equal(t.display('#{alternate_on}'), '0');
    assert.equal(t.display('#{cursor_flag}'), '1');
  });
});
