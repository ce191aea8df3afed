// A recording: a directory laid out like tracefs (format files,
// saved_cmdlines, saved_tgids, printk_formats, trace_clock,
// per_cpu/cpuN/trace_pipe_raw files of raw sub-buffers), as written by
// `tracering snapshot`, or the live tracefs root itself.

import fs from 'node:fs';
import { join } from 'node:path';
import { parseHeaderPage } from '../decode/format-file.js';
import { MalformedInputError, TracefsNotFoundError } from '../errors.js';
import type { BatchSource } from '../layout/batch-source.js';
import { PageStream } from '../layout/page-stream.js';
import type { RecordBatch } from '../layout/record.js';
import { HOST_LITTLE_ENDIAN, type SubbufLayout, checkSubbufLayout } from '../layout/subbuf.js';

/** What `tracering snapshot` records about the machine, beside the tracefs files. */
export interface RecordingMeta {
  format: 'tracering-snapshot';
  version: 1;
  kernel: string;
  littleEndian: boolean;
  longSize: 4 | 8;
  pageSize: number;
  subbufSize: number;
  clock: string;
  cpus: number[];
  /** Online CPUs when recorded (the `#P:` of the text header). */
  onlineCpus: number;
  createdAt: string;
}

export const META_FILE = 'tracering.json';

/** Reads one CPU's file of raw sub-buffers, a chunk at a time. */
export class FileCpuReader implements BatchSource {
  readonly cpu: number;
  readonly layout: SubbufLayout;
  readonly #fd: number;
  readonly #pages: PageStream;
  #closed = false;

  /** `pagesPerBatch`: sub-buffers per batch (default 16: larger batches decode faster). */
  constructor(path: string, cpu: number, layout: SubbufLayout, pagesPerBatch = 16) {
    this.cpu = cpu;
    this.layout = layout;
    this.#fd = fs.openSync(path, 'r');
    this.#pages = new PageStream(layout, cpu, (into, pageSize, max) => {
      let n = 0;
      while (n < max) {
        const got = fs.readSync(this.#fd, into, n * pageSize, pageSize, null);
        if (got <= 0) break;
        // A trailing partial sub-buffer is zero-filled, as a short read() is.
        if (got < pageSize) into.fill(0, n * pageSize + got, (n + 1) * pageSize);
        n++;
        if (got < pageSize) break;
      }
      return n;
    }, { pagesPerBatch });
  }

  next(): RecordBatch | null {
    return this.#closed ? null : this.#pages.next();
  }

  get caughtUp(): boolean {
    return this.#pages.caughtUp;
  }

  /** The sub-buffers of the last batch, as stored (valid until the next call). */
  get lastPages(): Uint8Array {
    return this.#pages.lastPages;
  }

  /** Closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.#fd);
  }
}

/** A recording directory (laid out like tracefs), opened for reading. */
export class Recording {
  readonly root: string;
  readonly layout: SubbufLayout;
  /** Trace clock the events were recorded with. */
  readonly clock: string;
  readonly cpus: readonly number[];
  readonly meta: RecordingMeta | null;

  private constructor(root: string, layout: SubbufLayout, clock: string, cpus: number[], meta: RecordingMeta | null) {
    this.root = root;
    this.layout = layout;
    this.clock = clock;
    this.cpus = cpus;
    this.meta = meta;
  }

  /** Opens a recording directory. */
  static open(root: string): Recording {
    if (!fs.existsSync(join(root, 'events/header_page'))) {
      throw new TracefsNotFoundError(`${root} is not a recording or tracefs (no events/header_page)`);
    }
    const meta = readMeta(root);
    const header = parseHeaderPage(fs.readFileSync(join(root, 'events/header_page'), 'utf8'), 'events/header_page');
    const layout: SubbufLayout = {
      subbufSize: header.subbufSize,
      dataOffset: header.dataOffset,
      longSize: header.commitSize,
      littleEndian: meta?.littleEndian ?? HOST_LITTLE_ENDIAN,
    };
    checkSubbufLayout(layout);
    const clockText = readOptional(root, 'trace_clock');
    const clock = clockText === null ? 'local' : (/\[([^\]]+)\]/.exec(clockText)?.[1] ?? clockText.trim());
    let cpus: number[] = [];
    try {
      cpus = fs
        .readdirSync(join(root, 'per_cpu'))
        .map((n) => /^cpu(\d+)$/.exec(n)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
    } catch {
      // a recording without per-CPU data decodes nothing
    }
    return new Recording(root, layout, clock, cpus, meta);
  }

  /** A file of the recording as text, or null if absent. */
  readText(relative: string): string | null {
    return readOptional(this.root, relative);
  }

  /** Readers for every CPU's recorded pages (CPUs without a file are skipped). */
  openReaders(): FileCpuReader[] {
    const readers: FileCpuReader[] = [];
    for (const cpu of this.cpus) {
      const path = join(this.root, `per_cpu/cpu${cpu}/trace_pipe_raw`);
      if (fs.existsSync(path)) readers.push(new FileCpuReader(path, cpu, this.layout));
    }
    return readers;
  }

  /** kallsyms stored with the recording (kallsyms.gz or kallsyms), if any. */
  kallsymsPath(): string | null {
    for (const name of ['kallsyms.gz', 'kallsyms']) {
      const path = join(this.root, name);
      if (fs.existsSync(path)) return path;
    }
    return null;
  }
}

function readOptional(root: string, relative: string): string | null {
  try {
    return fs.readFileSync(join(root, relative), 'utf8');
  } catch {
    return null;
  }
}

function readMeta(root: string): RecordingMeta | null {
  const text = readOptional(root, META_FILE);
  if (text === null) return null;
  let meta: RecordingMeta;
  try {
    meta = JSON.parse(text) as RecordingMeta;
  } catch (error) {
    throw new MalformedInputError(`${META_FILE}: not JSON`, { cause: error });
  }
  if (meta.format !== 'tracering-snapshot' || typeof meta.littleEndian !== 'boolean') {
    throw new MalformedInputError(`${META_FILE}: not a tracering snapshot description`);
  }
  return meta;
}
