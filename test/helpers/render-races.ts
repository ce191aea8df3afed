// Parts of the kernel's `trace` text come from global state at the moment
// the text is read, not from the event:
// - the COMM column: saved_cmdlines. Its slots are shared: a pid keeps the
//   slot it was first given, another pid recorded into that slot evicts it
//   (the kernel then prints <...>), and the pid takes the slot back the next
//   time it is recorded. So an entry can change and change back between two
//   readings: a long-lived kernel thread under a fork storm does just that.
// - the TGID column (record-tgid): saved_tgids, one entry per pid, replaced
//   when the pid is reused;
// - writeback's age=: (jiffies - dirtied_when) / HZ with jiffies when printed.
// Any tracing on the machine (another instance, another test) changes the
// first two while the kernel renders and before our side reads them; time
// changes the third. A comparison therefore reads that state before the
// kernel renders, between the chunks it renders, and after ours read it
// (RenderWindow), and accepts a difference in one of those columns only for
// a pid whose entry demonstrably changed in that time (a reading differs,
// or the kernel's own text printed that pid under two names), and only if
// our text shows exactly what our side's table says. The rest of the line
// must still be identical.

import fs from 'node:fs';
import { join } from 'node:path';
import { readJiffies } from '../../src/decode/kernel-constants.js';

/** saved_cmdlines (and saved_tgids) as read at one moment. */
export interface TaskTables {
  /**
   * pid -> "line:comm". saved_cmdlines lists its slots in slot order, so the
   * line number says which slot the pid holds.
   */
  comms: Map<number, string>;
  /** pid -> tgid; null when not read. */
  tgids: Map<number, number> | null;
  /** Lines of saved_cmdlines (slots in use) and of saved_tgids: the kernel's tables only grow. */
  lines: number;
  tgidLines: number;
}

function pidLines(text: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) out.push([Number(line.slice(0, space)), line.slice(space + 1)]);
  }
  return out;
}

function readOrEmpty(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** saved_cmdlines and (with `tgids`) saved_tgids of a tracefs root or a recording. */
export function readTaskTables(root: string, tgids = true): TaskTables {
  const comms = new Map<number, string>();
  const lines = pidLines(readOrEmpty(join(root, 'saved_cmdlines')));
  for (const [line, [pid, comm]] of lines.entries()) {
    // A read torn by a change (the file spans several read() calls) can list a pid twice.
    comms.set(pid, comms.has(pid) ? `torn:${comm}` : `${line}:${comm}`);
  }
  if (!tgids) return { comms, tgids: null, lines: lines.length, tgidLines: 0 };
  const tgidMap = new Map<number, number>();
  const tgidLines = pidLines(readOrEmpty(join(root, 'saved_tgids')));
  for (const [pid, tgid] of tgidLines) tgidMap.set(pid, Number(tgid));
  return { comms, tgids: tgidMap, lines: lines.length, tgidLines: tgidLines.length };
}

/** The name our side prints for `pid` from `tables`, as the kernel's lookup does. */
export function tableComm(tables: TaskTables, pid: number): string {
  if (pid === 0) return '<idle>';
  const entry = tables.comms.get(pid);
  return entry === undefined ? '<...>' : entry.slice(entry.indexOf(':') + 1);
}

/** The state the kernel's text depends on, from before the kernel rendered until after ours read it. */
export interface RenderWindow {
  /** How many readings of saved_cmdlines the window took. */
  readings: number;
  /** Pids whose saved_cmdlines entry (slot or name) differed between two consecutive readings. */
  commChanged: ReadonlySet<number>;
  /** Pids whose saved_tgids entry differed between two consecutive readings. */
  tgidChanged: ReadonlySet<number>;
  /** The tables our side rendered with (read from the very bytes it used). */
  ours: TaskTables;
  /** jiffies just before and just after the kernel rendered `trace` (null: /proc/timer_list unreadable). */
  jiffies: { before: bigint; afterKernel: bigint } | null;
}

/** Adds to `changed` the keys whose values differ between `a` and `b`. */
function addChanges<V>(a: ReadonlyMap<number, V>, b: ReadonlyMap<number, V>, changed: Set<number>): void {
  for (const [pid, v] of a) if (b.get(pid) !== v) changed.add(pid);
  for (const pid of b.keys()) if (!a.has(pid)) changed.add(pid);
}

const READ_SIZE = 64 * 1024;
/** Kernel text rendered between two readings of saved_cmdlines. */
const TEXT_PER_READING = 256 * 1024;

/**
 * Reads the kernel's `trace` text and records the window around it: call
 * readKernelText(), then finish() once our side has read its tables (from
 * `oursRoot`: the recording, or a copy of the tracefs files it was given).
 */
export class RenderWindowProbe {
  readonly #root: string;
  readonly #commChanged = new Set<number>();
  readonly #tgidChanged = new Set<number>();
  #readings = 0;
  #last: TaskTables | null = null;
  #lastTgids: TaskTables | null = null;
  #jiffies: RenderWindow['jiffies'] = null;

  constructor(tracefsRoot: string) {
    this.#root = tracefsRoot;
  }

  #reading(tables: TaskTables): void {
    this.#readings++;
    if (this.#last !== null) addChanges(this.#last.comms, tables.comms, this.#commChanged);
    this.#last = tables;
    if (tables.tgids === null) return;
    if (this.#lastTgids?.tgids) addChanges(this.#lastTgids.tgids, tables.tgids, this.#tgidChanged);
    this.#lastTgids = tables;
  }

  /** The text of `tracePath`, read in chunks with saved_cmdlines read before, between and after them. */
  readKernelText(tracePath: string): string {
    this.#reading(readTaskTables(this.#root));
    const before = readJiffies();
    const chunks: Buffer[] = [];
    let sinceReading = 0;
    const fd = fs.openSync(tracePath, 'r');
    try {
      // (Each read() returns at most a page of text: seq_file renders a page at a time.)
      for (;;) {
        const buf = Buffer.allocUnsafe(READ_SIZE);
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        chunks.push(buf.subarray(0, n));
        sinceReading += n;
        if (sinceReading >= TEXT_PER_READING) {
          this.#reading(readTaskTables(this.#root, false));
          sinceReading = 0;
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    if (sinceReading > 0) this.#reading(readTaskTables(this.#root, false));
    const after = readJiffies();
    this.#jiffies = before === null || after === null ? null : { before, afterKernel: after };
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * Call after our side read its tables from `oursRoot`. Our tables count
   * as a reading of the kernel's (a change they show explains a
   * difference), so they must be one: as many slots in use as the readings
   * around them allow, else this throws.
   */
  finish(oursRoot: string): RenderWindow {
    const before = this.#last;
    const beforeTgids = this.#lastTgids;
    if (before === null || beforeTgids === null) throw new Error('RenderWindowProbe: readKernelText() was not called');
    const ours = readTaskTables(oursRoot);
    const after = readTaskTables(this.#root);
    const within = (n: number, lo: number, hi: number) => lo <= n && n <= hi;
    if (!within(ours.lines, before.lines, after.lines) || !within(ours.tgidLines, beforeTgids.tgidLines, after.tgidLines)) {
      throw new Error(
        `our side's saved_cmdlines / saved_tgids (${ours.lines} / ${ours.tgidLines} lines) are no reading of the kernel's ` +
          `(${before.lines}..${after.lines} / ${beforeTgids.tgidLines}..${after.tgidLines} lines)`,
      );
    }
    this.#reading(ours);
    this.#reading(after);
    return { readings: this.#readings, commChanged: this.#commChanged, tgidChanged: this.#tgidChanged, ours, jiffies: this.#jiffies };
  }
}

/** What our side rendered age= with. */
export interface OurClock {
  /** jiffies our renderer was given (null: none), and HZ. */
  jiffies: bigint | null;
  hz: number | null;
}

// The kernel's "%16s-%-7d " and, with record-tgid, "(%7d) " or "(-------) ".
const CONTEXT = /^(.{16})-(\d+) * (\((?: *\d+|-------)\) )?/;
// writeback_single_inode*, writeback_sb_inodes_requeue: "dirtied_when=%lu age=%lu".
const AGE = / dirtied_when=(\d+) age=(\d+) /;

export const commColumn = (comm: string) => comm.padStart(16);
export const tgidColumn = (tgid: number | undefined) => (tgid === undefined ? '(-------) ' : `(${String(tgid).padStart(7)}) `);

export type RaceCause =
  | 'saved_cmdlines entry changed between readings'
  | 'the kernel printed the pid under two names'
  | 'saved_tgids entry changed between readings'
  | 'jiffies advanced';

/**
 * Pids the kernel's text prints under two names. The kernel's lookup is a
 * function of saved_cmdlines, so this proves the entry changed while the
 * text was rendered.
 */
export function pidsUnderTwoNames(kernelEvents: readonly string[]): Set<number> {
  const names = new Map<number, string>();
  const two = new Set<number>();
  for (const e of kernelEvents) {
    const m = CONTEXT.exec(e);
    if (m === null) continue;
    const pid = Number(m[2]);
    const seen = names.get(pid);
    if (seen === undefined) names.set(pid, m[1]!);
    else if (seen !== m[1]) two.add(pid);
  }
  return two;
}

export type RaceJudge = (name: string, ours: string, kernel: string) => RaceCause[] | null;

/**
 * Explains `kernel` against `ours` by the races above, or says it cannot:
 * returns the causes that, put right, make the kernel's line equal ours,
 * or null. `twoNames` is pidsUnderTwoNames() of the kernel's whole text;
 * `jiffiesEvents` names the events whose print fmt reads jiffies.
 */
export function explainRaces(window: RenderWindow, twoNames: ReadonlySet<number>, clock: OurClock, jiffiesEvents: ReadonlySet<string>): RaceJudge {
  const { commChanged, tgidChanged } = window;
  return (name, ours, kernel) => {
    const causes: RaceCause[] = [];
    let fixed = kernel;
    const o = CONTEXT.exec(ours);
    const k = CONTEXT.exec(kernel);
    if (o !== null && k !== null && o[2] === k[2]) {
      const pid = Number(o[2]);
      // COMM: only for a pid whose entry changed, and ours must be our table's.
      if (o[1] !== k[1] && o[1] === commColumn(tableComm(window.ours, pid))) {
        const cause = commChanged.has(pid) ? 'saved_cmdlines entry changed between readings' : twoNames.has(pid) ? 'the kernel printed the pid under two names' : null;
        if (cause !== null) {
          fixed = o[1] + fixed.slice(16);
          causes.push(cause);
        }
      }
      // TGID: the same, for saved_tgids.
      const ot = o[3];
      const kt = k[3];
      if (ot !== undefined && kt !== undefined && ot !== kt && tgidChanged.has(pid) && ot === tgidColumn(window.ours.tgids?.get(pid))) {
        const at = k.index + k[0].length - kt.length;
        fixed = fixed.slice(0, at) + ot + fixed.slice(at + kt.length);
        causes.push('saved_tgids entry changed between readings');
      }
    }
    // age=: the kernel's jiffies lay between the two readings around its
    // rendering; ours is what our renderer was given.
    const oa = AGE.exec(ours);
    const ka = AGE.exec(fixed);
    if (jiffiesEvents.has(name) && oa !== null && ka !== null && oa[1] === ka[1] && oa[2] !== ka[2] && window.jiffies !== null && clock.jiffies !== null && clock.hz !== null) {
      const dirtied = BigInt(oa[1]!);
      const hz = BigInt(clock.hz);
      const age = (j: bigint) => BigInt.asUintN(64, j - dirtied) / hz;
      const kernelAge = BigInt(ka[2]!);
      if (kernelAge >= age(window.jiffies.before) && kernelAge <= age(window.jiffies.afterKernel) && BigInt(oa[2]!) === age(clock.jiffies)) {
        fixed = fixed.slice(0, ka.index) + oa[0] + fixed.slice(ka.index + ka[0].length);
        causes.push('jiffies advanced');
      }
    }
    return causes.length > 0 && fixed === ours ? causes : null;
  };
}
