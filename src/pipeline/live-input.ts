// A live capture (kernel buffers read by the capture thread, application
// rings read here) as an input for sinks: each round's pages reach every
// sink through its own cursors.

import fs from 'node:fs';
import { basename } from 'node:path';
import type { Capture } from '../capture/capture.js';
import { LocalPages } from '../capture/local-pages.js';
import { RoundTaker } from '../capture/rounds.js';
import { StagedCursor } from '../capture/staged-cursor.js';
import { DirectorySource } from '../decode/registry.js';
import { emitProcessWarning, type WarningHandler } from '../errors.js';
import { type DecodeContext, loadDecodeContext } from '../output/decode-context.js';
import type { AppRing } from '../ring/app-ring.js';
import type { RingReader } from '../ring/reader.js';
import type { BufferInput, ClockPair, RingInput } from '../sinks/sink.js';
import type { InputSource, OpenedInput } from './input.js';
import { localMachine } from './recording-input.js';

/** An application ring read beside a capture. */
export interface LiveRing {
  ring: AppRing;
  reader: RingReader;
  path: string;
}

/** Options of LiveInput. */
export interface LiveInputOptions {
  /** The tracefs root (saved_cmdlines, printk_formats). */
  tracefsRoot: string;
  rings?: readonly LiveRing[];
  /** kallsyms file, or null for none (default /proc/kallsyms). */
  kallsyms?: string | null;
  /** Event systems to load formats for up front (others load when seen). */
  systems?: readonly string[];
  /** Clock readings taken when the capture started. */
  clockPairs?: readonly ClockPair[];
  /** The buffer's name in outputs (default the instance's; '' presents it as the top-level buffer). */
  bufferName?: string;
  /**
   * Each CPU's stats text from before the capture started reading (default:
   * read now, when the capture thread may already have consumed some).
   */
  startStats?: ReadonlyMap<number, string>;
  onWarning?: WarningHandler;
}

/** A live capture as the input of sinks: each round's pages reach every sink through its own cursors. */
export class LiveInput implements InputSource {
  readonly kind = 'live' as const;
  readonly label: string;
  readonly capture: Capture;
  readonly taker: RoundTaker;
  readonly rings: readonly LiveRing[];
  readonly ringPages: readonly LocalPages[];
  readonly startStats: ReadonlyMap<number, string>;
  readonly #options: LiveInputOptions;
  readonly #rootFiles: DirectorySource;
  readonly #arrayFiles: DirectorySource;
  readonly #cursors: StagedCursor[] = [];
  #context: DecodeContext | null = null;
  #kallsyms: Uint8Array | null | undefined;

  constructor(capture: Capture, options: LiveInputOptions) {
    this.capture = capture;
    this.label = capture.array.label;
    this.#options = options;
    this.taker = new RoundTaker(capture.staging, capture.layout);
    this.rings = options.rings ?? [];
    this.ringPages = this.rings.map((r) => new LocalPages(r.reader.layout));
    this.#rootFiles = new DirectorySource(options.tracefsRoot);
    this.#arrayFiles = new DirectorySource(capture.array.path);
    this.startStats = options.startStats ?? readAllStats(capture.array, capture.readers.map((r) => r.cpu));
  }

  #decodeContext(): DecodeContext {
    this.#context ??= loadDecodeContext({
      root: this.#options.tracefsRoot,
      array: this.capture.array.path,
      formats: this.rings.map((r) => r.ring.formats),
      ...(this.#options.kallsyms !== undefined ? { kallsyms: this.#options.kallsyms } : {}),
      ...(this.#options.systems !== undefined ? { systems: this.#options.systems } : {}),
    });
    return this.#context;
  }

  open(): OpenedInput {
    const capture = this.capture;
    const cursors = capture.readers.map((r, q) => new StagedCursor(capture.staging, this.taker.cpus[q]!, r.cpu, capture.layout));
    const firstRingCpu = Math.max(-1, ...capture.readers.map((r) => r.cpu)) + 1;
    const ringCursors = this.ringPages.map(
      (pages, i) => new StagedCursor(pages, pages.round, firstRingCpu + i, this.rings[i]!.reader.layout),
    );
    this.#cursors.push(...cursors, ...ringCursors);
    const buffer: BufferInput = {
      name: this.bufferName,
      clock: capture.array.traceClock,
      layout: capture.layout,
      cpus: cursors,
      files: this.#arrayFiles,
      startStats: this.startStats,
    };
    const rings: RingInput[] = this.rings.map((r, i) => ({
      name: basename(r.path),
      path: r.path,
      cursor: ringCursors[i]!,
      formats: r.ring.formats,
      writerPid: processOf(r.ring.lastWriterTid),
      writerTid: r.ring.lastWriterTid,
    }));
    return {
      live: true,
      label: this.label,
      buffers: [buffer],
      rings,
      files: this.#rootFiles,
      kallsyms: () => this.#readKallsyms(),
      context: () => this.#decodeContext(),
      machine: localMachine(),
      clockPairs: this.#options.clockPairs ?? [],
      onWarning: this.#options.onWarning ?? emitProcessWarning,
      close: () => {},
    };
  }

  get bufferName(): string {
    return this.#options.bufferName ?? this.capture.array.name ?? '';
  }

  /** Claims the next round of kernel pages and reads the rings; returns the pages in it. */
  takeRound(): number {
    let n = this.taker.take();
    for (let i = 0; i < this.rings.length; i++) n += this.ringPages[i]!.fill(this.rings[i]!.reader);
    for (const c of this.#cursors) c.rewind();
    return n;
  }

  /** After the capture finished and the last round: the losses that followed each CPU's last page, as a round (RoundTaker.takeTrailingLosses). */
  takeTrailingLosses(): number {
    const n = this.taker.takeTrailingLosses();
    for (const c of this.#cursors) c.rewind();
    return n;
  }

  /** Gives the round's pages back to the capture. */
  releaseRound(): void {
    this.taker.release();
    for (const p of this.ringPages) p.round.count = 0;
  }

  #readKallsyms(): Uint8Array | null {
    if (this.#kallsyms !== undefined) return this.#kallsyms;
    const path = this.#options.kallsyms === undefined ? '/proc/kallsyms' : this.#options.kallsyms;
    try {
      this.#kallsyms = path === null ? null : readWholeFile(path);
    } catch {
      this.#kallsyms = null;
    }
    return this.#kallsyms;
  }

  close(): void {
    this.#context = null;
  }
}

/** Each CPU's stats file text (CPUs whose file cannot be read are left out). */
export function readAllStats(array: { cpuFile(cpu: number, name: string): string }, cpus: readonly number[]): Map<number, string> {
  const stats = new Map<number, string>();
  for (const cpu of cpus) {
    const text = readStats(array.cpuFile(cpu, 'stats'));
    if (text !== null) stats.set(cpu, text);
  }
  return stats;
}

function readStats(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The process (tgid) of thread `tid`, from /proc (0 when gone or unknown). */
export function processOf(tid: number): number {
  if (tid <= 0) return 0;
  const status = readStats(`/proc/${tid}/status`);
  const m = status === null ? null : /^Tgid:\s+(\d+)$/m.exec(status);
  return m === null ? 0 : Number(m[1]);
}

/**
 * A whole file as bytes, for /proc files that report no size
 * (/proc/kallsyms: 5 MB): read in 1 MiB steps into one growing buffer.
 * readFileSync reads such a file in 64 KiB pieces and joins them, and the
 * copy into a Uint8Array was a third; this is one buffer, no copies but
 * the growth.
 */
export function readWholeFile(path: string): Uint8Array {
  const fd = fs.openSync(path, 'r');
  try {
    let bytes = Buffer.allocUnsafe(8 << 20);
    let length = 0;
    for (;;) {
      if (bytes.length - length < 1 << 20) {
        const grown = Buffer.allocUnsafe(bytes.length * 2);
        bytes.copy(grown, 0, 0, length);
        bytes = grown;
      }
      const n = fs.readSync(fd, bytes, length, bytes.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return bytes.subarray(0, length);
  } finally {
    fs.closeSync(fd);
  }
}
