// Proof that explainRaces() excuses only the races it names: real lines
// that both sides printed identically get real differences injected, and
// each must be caught, while the same COMM / TGID / age= difference is
// accepted once the state it depends on is made to have changed.

import {
  type OurClock,
  type RaceCause,
  type RenderWindow,
  type TaskTables,
  commColumn,
  explainRaces,
  pidsUnderTwoNames,
  tableComm,
} from './render-races.js';

export interface InjectionReport {
  /** Injected cases tried. */
  cases: number;
  /** Cases judged wrongly (an injected real difference accepted, or a race not accepted). */
  failures: string[];
}

const CONTEXT = /^(.{16})-(\d+) * (\((?: *\d+|-------)\) )?\[(\d+)\] (\S{5} )? *(\d+(?:\.\d+)?): /;
const AGE = / dirtied_when=(\d+) age=(\d+) /;

/** `text` with the character at `at` replaced by another one of the same kind. */
function flip(text: string, at: number): string {
  const c = text[at]!;
  const other = /\d/.test(c) ? String((Number(c) + 1) % 10) : c === 'X' ? 'Y' : 'X';
  return text.slice(0, at) + other + text.slice(at + 1);
}

/** Real differences outside the racy columns: the last body character, a flag, the timestamp's last digit. */
function realDifferences(text: string): Array<[string, string]> {
  const m = CONTEXT.exec(text);
  if (m === null) return [];
  const out: Array<[string, string]> = [];
  const body = text.endsWith('\n') ? text.length - 2 : text.length - 1;
  if (body >= m[0].length) out.push(['body', flip(text, body)]);
  if (m[5] !== undefined) out.push(['flags', flip(text, m[0].indexOf(m[5], 17) + 2)]);
  out.push(['timestamp', flip(text, m[0].length - 3)]);
  return out;
}

const plus = (set: ReadonlySet<number>, pid: number) => new Set([...set, pid]);

function renamed(tables: TaskTables, pid: number, comm: string): TaskTables {
  return { ...tables, comms: new Map([...tables.comms, [pid, `0:${comm}`]]) };
}

/**
 * Runs the injections on up to `limit` events (name, text) that both sides
 * printed identically, under the recorded `window`; `kernelEvents` is the
 * kernel's whole text cut into events.
 */
export function checkRaceJudge(
  events: ReadonlyArray<{ name: string; text: string }>,
  kernelEvents: readonly string[],
  window: RenderWindow,
  clock: OurClock,
  jiffiesEvents: ReadonlySet<string>,
  limit = 200,
): InjectionReport {
  const failures: string[] = [];
  let cases = 0;
  const expect = (what: string, got: RaceCause[] | null, want: RaceCause[] | null, ours: string, kernel: string) => {
    cases++;
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      failures.push(`${what}: judged ${JSON.stringify(got)}, expected ${JSON.stringify(want)}\n  ours  : ${JSON.stringify(ours)}\n  kernel: ${JSON.stringify(kernel)}`);
    }
  };
  const twoNames = pidsUnderTwoNames(kernelEvents);
  const judgeOf = (w: RenderWindow) => explainRaces(w, twoNames, clock, jiffiesEvents);
  const judge = judgeOf(window);
  const step = Math.max(1, Math.floor(events.length / limit));
  const picked = events.filter((e, i) => i % step === 0 || AGE.test(e.text)).slice(0, limit + 20);
  for (const { name, text } of picked) {
    const m = CONTEXT.exec(text);
    if (m === null) continue;
    const pid = Number(m[2]);
    const comm = m[1]!;
    const otherComm = commColumn(comm.trim() === '<...>' ? 'injected' : '<...>');
    const commDiffers = otherComm + text.slice(16);

    // Real differences are never accepted, whatever else changed.
    for (const [where, kernel] of realDifferences(text)) expect(`${name}: a different ${where}`, judge(name, text, kernel), null, text, kernel);

    if (pid !== 0) {
      // COMM: rejected while the pid's saved_cmdlines entry showed no change...
      if (!window.commChanged.has(pid) && !twoNames.has(pid)) {
        expect(`${name}: COMM of a pid whose entry did not change`, judge(name, text, commDiffers), null, text, commDiffers);
      }
      // ...accepted once a reading differs (as if another pid took the slot),
      const moved: RenderWindow = { ...window, commChanged: plus(window.commChanged, pid) };
      const movedJudge = judgeOf(moved);
      expect(`${name}: COMM of a pid whose entry changed`, movedJudge(name, text, commDiffers), ['saved_cmdlines entry changed between readings'], text, commDiffers);
      // but not with a real difference besides,
      for (const [where, kernel] of realDifferences(commDiffers)) {
        expect(`${name}: changed COMM and a different ${where}`, movedJudge(name, text, kernel), null, text, kernel);
      }
      // nor when our COMM is not what our own table says.
      if (tableComm(window.ours, pid) !== 'not-in-table') {
        const wrongTable: RenderWindow = { ...moved, ours: renamed(window.ours, pid, 'not-in-table') };
        expect(`${name}: COMM not from our table`, judgeOf(wrongTable)(name, text, commDiffers), null, text, commDiffers);
      }
    }

    // TGID (record-tgid): the same rules.
    if (m[3] !== undefined && pid !== 0) {
      const at = text.indexOf(m[3], 17);
      const tgidDiffers = text.slice(0, at) + (m[3].startsWith('(-') ? '(      1) ' : '(-------) ') + text.slice(at + m[3].length);
      if (!window.tgidChanged.has(pid)) {
        expect(`${name}: TGID of a pid whose entry did not change`, judge(name, text, tgidDiffers), null, text, tgidDiffers);
      }
      const reused: RenderWindow = { ...window, tgidChanged: plus(window.tgidChanged, pid) };
      expect(`${name}: TGID of a reused pid`, judgeOf(reused)(name, text, tgidDiffers), ['saved_tgids entry changed between readings'], text, tgidDiffers);
    }

    // age=: accepted within the jiffies the kernel can have used, not beyond.
    const a = AGE.exec(text);
    if (a !== null && jiffiesEvents.has(name) && window.jiffies !== null && clock.hz !== null) {
      const dirtied = BigInt(a[1]!);
      const hz = BigInt(clock.hz);
      const latest = BigInt.asUintN(64, window.jiffies.afterKernel - dirtied) / hz;
      const beyond = text.replace(a[0], ` dirtied_when=${a[1]} age=${latest + 1n} `);
      expect(`${name}: age= later than the kernel's rendering`, judge(name, text, beyond), null, text, beyond);
      const before = BigInt.asUintN(64, window.jiffies.before - dirtied) / hz;
      if (before > 0n) {
        const earlier = text.replace(a[0], ` dirtied_when=${a[1]} age=${before - 1n} `);
        expect(`${name}: age= earlier than the kernel's rendering`, judge(name, text, earlier), null, text, earlier);
      }
    }
  }
  return { cases, failures };
}
