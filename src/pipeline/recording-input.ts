// A recording directory (tracering snapshot, or any tracefs-like capture:
// raw per-CPU pages plus format files) as an input for sinks.

import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DirectorySource } from '../decode/registry.js';
import { emitProcessWarning, type WarningHandler } from '../errors.js';
import { type DecodeContext, loadDecodeContext } from '../output/decode-context.js';
import { Recording } from '../recording/recording.js';
import type { BufferInput, MachineInfo } from '../sinks/sink.js';
import { ReaderCursor } from './cursor.js';
import type { InputSource, OpenedInput } from './input.js';

export interface RecordingInputOptions {
  /** kallsyms file, or null for none (default: the recording's kallsyms.gz). */
  kallsyms?: string | null;
  onWarning?: WarningHandler;
}

export class RecordingInput implements InputSource {
  readonly kind = 'recording' as const;
  readonly label: string;
  readonly recording: Recording;
  readonly #files: DirectorySource;
  readonly #options: RecordingInputOptions;
  #loadedContext: DecodeContext | null = null;
  #kallsyms: Uint8Array | null | undefined;

  constructor(dir: string, options: RecordingInputOptions = {}) {
    this.recording = Recording.open(dir);
    this.label = dir;
    this.#files = new DirectorySource(dir);
    this.#options = options;
  }

  #stats(): Map<number, string> {
    const stats = new Map<number, string>();
    for (const cpu of this.recording.cpus) {
      const text = this.recording.readText(`per_cpu/cpu${cpu}/stats`);
      if (text !== null) stats.set(cpu, text);
    }
    return stats;
  }

  #machine(): MachineInfo {
    const meta = this.recording.meta;
    return {
      sysname: 'Linux',
      hostname: '',
      release: meta?.kernel ?? '',
      machine: '',
      bootId: '',
      onlineCpus: meta?.onlineCpus ?? this.recording.cpus.length,
      littleEndian: this.recording.layout.littleEndian,
      longSize: this.recording.layout.longSize === 4 ? 4 : 8,
    };
  }

  #context(): DecodeContext {
    this.#loadedContext ??= loadDecodeContext(
      {
        root: this.recording.root,
        ...(this.#options.kallsyms !== undefined ? { kallsyms: this.#options.kallsyms } : {}),
      },
      this.recording.layout.littleEndian,
    );
    return this.#loadedContext;
  }

  open(): OpenedInput {
    const readers = this.recording.openReaders();
    const cursors = readers.map((r) => new ReaderCursor(r));
    const buffer: BufferInput = {
      name: '',
      clock: this.recording.clock,
      layout: this.recording.layout,
      cpus: cursors,
      files: this.#files,
      startStats: this.#stats(),
    };
    return {
      live: false,
      label: this.label,
      buffers: [buffer],
      rings: [],
      files: this.#files,
      kallsyms: () => this.#readKallsyms(),
      context: () => this.#context(),
      machine: this.#machine(),
      clockPairs: [],
      onWarning: this.#options.onWarning ?? emitProcessWarning,
      close: () => {
        for (const r of readers) r.close();
      },
    };
  }

  #readKallsyms(): Uint8Array | null {
    if (this.#kallsyms !== undefined) return this.#kallsyms;
    const chosen = this.#options.kallsyms;
    const path = chosen === undefined ? this.recording.kallsymsPath() : chosen;
    this.#kallsyms = path === null ? null : new Uint8Array(fs.readFileSync(path));
    return this.#kallsyms;
  }

  close(): void {
    this.#loadedContext = null;
  }
}

/** Machine facts of the running system (for live inputs and new recordings). */
export function localMachine(): MachineInfo {
  let bootId = '';
  try {
    bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // not Linux, or /proc hidden
  }
  return {
    sysname: os.type(),
    hostname: os.hostname(),
    release: os.release(),
    machine: os.machine(),
    bootId,
    onlineCpus: os.availableParallelism(),
    littleEndian: os.endianness() === 'LE',
    longSize: 8,
  };
}

export function isRecordingDir(path: string): boolean {
  return fs.existsSync(join(path, 'events/header_page')) && !fs.existsSync(join(path, 'trace_marker'));
}
