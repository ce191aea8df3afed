// comm and tgid lookup as the kernel's text does it: saved_cmdlines holds
// the latest comm per pid (not the comm at event time), pid 0 is <idle>,
// unknown pids print as <...>; saved_tgids maps pid to tgid.

import { MalformedInputError } from '../errors.js';

const MAX_LINES = 1 << 22;

function parsePidTable(text: string, what: string): Map<number, string> {
  const table = new Map<number, string>();
  const lines = text.split('\n');
  if (lines.length > MAX_LINES) throw new MalformedInputError(`${what}: too many lines`);
  for (const line of lines) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    const pid = Number(line.slice(0, space));
    if (space <= 0 || !Number.isInteger(pid) || pid < 0) throw new MalformedInputError(`${what}: bad line ${JSON.stringify(line.slice(0, 80))}`);
    table.set(pid, line.slice(space + 1));
  }
  return table;
}

function parseTgids(text: string): Map<number, number> {
  const tgids = new Map<number, number>();
  for (const [pid, v] of parsePidTable(text, 'saved_tgids')) {
    const tgid = Number(v);
    if (!Number.isInteger(tgid)) throw new MalformedInputError(`saved_tgids: bad tgid for pid ${pid}`);
    tgids.set(pid, tgid);
  }
  return tgids;
}

/** comm and tgid by pid, from saved_cmdlines and saved_tgids. */
export class TaskNames {
  readonly #comms: Map<number, string>;
  #tgids: Map<number, number> | null;
  /** saved_tgids (or how to read it), parsed on the first tgid() (only the record-tgid column and a few sinks ask). */
  #tgidsText: string | (() => string) | null = null;
  #version = 0;

  constructor(comms: Map<number, string> = new Map(), tgids: Map<number, number> = new Map()) {
    this.#comms = comms;
    this.#tgids = tgids;
  }

  /**
   * From the text of saved_cmdlines and (optionally) saved_tgids, or a
   * function reading it when first needed (live, the kernel prints a line
   * for every pid: ~370 KB here); a malformed saved_tgids throws at the
   * first tgid() lookup.
   */
  static parse(savedCmdlines: string, savedTgids: string | (() => string) = ''): TaskNames {
    const names = new TaskNames(parsePidTable(savedCmdlines, 'saved_cmdlines'));
    if (savedTgids !== '') {
      names.#tgids = null;
      names.#tgidsText = savedTgids;
    }
    return names;
  }

  /** The comm of `pid` as the kernel's text prints it (`<...>` when unknown). */
  comm(pid: number): string {
    if (pid === 0) return '<idle>';
    return this.#comms.get(pid) ?? '<...>';
  }

  /** The recorded tgid, or undefined (printed as "(-------)"). */
  tgid(pid: number): number | undefined {
    if (this.#tgids === null) {
      const text = this.#tgidsText;
      this.#tgids = parseTgids(typeof text === 'function' ? text() : (text ?? ''));
      this.#tgidsText = null;
    }
    return this.#tgids.get(pid);
  }

  /** Learns a name seen at event time (e.g. from sched_switch), as the kernel's cache does. */
  setComm(pid: number, comm: string): void {
    this.#comms.set(pid, comm);
    this.#version++;
  }

  /** Changes with every setComm(): text cached per pid stays valid while it does not. */
  get version(): number {
    return this.#version;
  }
}
