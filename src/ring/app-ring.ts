// An application ring buffer with the kernel's design and byte layout:
// meta page, sub-buffers by id, a reader sub-buffer swapped out with
// GET_READER semantics, overwrite / discard / block modes, lost-event
// accounting. One writer (a thread) and one reader (a thread or another
// process) share it through a SharedArrayBuffer or a file mapping.
//
//   const ring = AppRing.create({ path: '/dev/shm/myapp', subbufs: 64 });
//   const request = ring.defineEvent({ name: 'request', fields: [['id', 'u32'], ['path', 'string']] });
//   const w = ring.writer();
//   request.write(w, 42, '/index.html');      // published at the end of this tick
//
//   // elsewhere: AppRing.open('/dev/shm/myapp').reader().next()

import fs from 'node:fs';
import {
  BufferMappedError,
  ConcurrentReaderError,
  InvalidArgumentError,
  RingWriterBusyError,
  type WarningHandler,
} from '../errors.js';
import { META, META_STRUCT_LEN, type MetaSnapshot, MetaPage } from '../layout/meta-page.js';
import {
  CTRL,
  RING_MAGIC,
  RING_MODES,
  RING_VERSION,
  type RingGeometry,
  type RingMode,
  ctrlOffset,
  readRingGeometry,
  ringBytes,
  ringGeometry,
} from '../layout/ring-control.js';
import { native } from '../native.js';
import { AppEvent } from './app-event.js';
import { RingControl } from './control.js';
import { FileRingMemory, type RingMemory, SharedRingMemory } from './memory.js';
import { RingReader } from './reader.js';
import { type EventSchema, layoutEvent, layoutFromFormat } from './schema.js';
import { SchemaStore } from './schema-store.js';
import { RingWriter, type RingWriterOptions } from './writer.js';

/** Options of AppRing.create(). */
export interface AppRingOptions {
  /** Back the ring with this file (e.g. /dev/shm/NAME) to share it with other processes. */
  path?: string;
  /** Sub-buffer size in bytes: a power of two from 4096 to 1 MiB (default 4096). */
  subbufSize?: number;
  /** Sub-buffers including the reader's (default 64). */
  subbufs?: number;
  /** What the writer does when the ring is full (default 'overwrite'). */
  mode?: RingMode;
  /** Wake the reader when this percent of the ring is unread; 0 = on any data (default 0). */
  watermark?: number;
  /** Bytes for event formats (default 64 KiB). */
  schemaBytes?: number;
  /** The writer's name in text output (like a comm, 15 characters). */
  name?: string;
}

/** What another thread needs to attach to a ring (postMessage-able). */
export type RingHandle = { buffer: SharedArrayBuffer } | { path: string };

export interface RingStats extends MetaSnapshot {
  mode: RingMode;
  dropped: number;
  /** Events not yet read: entries - overrun - read. */
  unread: number;
  writerClosed: boolean;
}

const MODE_CODES: Record<RingMode, number> = { overwrite: 0, discard: 1, block: 2 };

function initialise(memory: RingMemory, g: RingGeometry, mode: RingMode, watermark: number, name: string): void {
  const v = memory.view;
  // The kernel's meta page: meta_page_size = subbuf_size, reader id 0.
  v.setUint32(META.metaPageSize, g.subbufSize, true);
  v.setUint32(META.metaStructLen, META_STRUCT_LEN, true);
  v.setUint32(META.subbufSize, g.subbufSize, true);
  v.setUint32(META.nrSubbufs, g.nrSubbufs, true);
  const c = ctrlOffset(g);
  v.setUint32(c + CTRL.version, RING_VERSION, true);
  v.setUint32(c + CTRL.subbufSize, g.subbufSize, true);
  v.setUint32(c + CTRL.nrSubbufs, g.nrSubbufs, true);
  v.setUint32(c + CTRL.mode, MODE_CODES[mode], true);
  v.setUint32(c + CTRL.watermark, watermark, true);
  v.setUint32(c + CTRL.schemaBytes, g.schemaBytes, true);
  v.setUint32(c + CTRL.ctrlBytes, g.ctrlBytes, true);
  memory.bytes.set(new TextEncoder().encode(name.slice(0, 15)), c + CTRL.comm);
  // Ring order as the kernel numbers a fresh mapping: reader 0, head 1, then 2, 3, ...
  for (let slot = 0; slot < g.nrSubbufs - 1; slot++) v.setInt32(c + CTRL.slots + 4 * slot, slot + 1, true);
  // The magic last: a half-initialised file is not a ring.
  Atomics.store(memory.i32, (c + CTRL.magic) >> 2, RING_MAGIC);
}

/** Whether a claimed role's holder (process pid, thread tid) still exists. */
function holderAlive(pid: number, tid: number): boolean {
  if (pid <= 0) return false;
  try {
    return fs.existsSync(`/proc/${pid}/task/${tid > 0 ? tid : pid}`);
  } catch {
    return true;
  }
}

/** An application ring buffer with the kernel's design and byte layout, in a SharedArrayBuffer or a file under /dev/shm. */
export class AppRing {
  readonly geometry: RingGeometry;
  readonly mode: RingMode;
  readonly path: string | null;
  readonly memory: RingMemory;
  /** The ring's event formats (a FormatSource for an EventRegistry). */
  readonly formats: SchemaStore;
  readonly #ctl: RingControl;
  readonly #label: string;
  #closed = false;

  private constructor(memory: RingMemory) {
    this.memory = memory;
    this.geometry = readRingGeometry(memory.view);
    this.#ctl = new RingControl(memory, this.geometry);
    this.mode = RING_MODES[this.#ctl.load(CTRL.mode)] ?? 'overwrite';
    this.path = memory.path;
    this.#label = memory.path === null ? 'application ring' : `ring ${memory.path}`;
    this.formats = new SchemaStore(this.#ctl, this.#label);
  }

  /** Creates a ring (in memory, or in a new file at `path`). */
  static create(options: AppRingOptions = {}): AppRing {
    const mode = options.mode ?? 'overwrite';
    if (!RING_MODES.includes(mode)) throw new InvalidArgumentError(`mode must be one of ${RING_MODES.join(', ')}`);
    const watermark = options.watermark ?? 0;
    if (!Number.isInteger(watermark) || watermark < 0 || watermark > 100) {
      throw new InvalidArgumentError('watermark must be an integer percent in 0..100');
    }
    const g = ringGeometry(options.subbufSize ?? 4096, options.subbufs ?? 64, options.schemaBytes ?? 65536);
    const size = ringBytes(g);
    const memory = options.path === undefined ? SharedRingMemory.allocate(size) : FileRingMemory.create(options.path, size);
    try {
      initialise(memory, g, mode, watermark, options.name ?? process.title.slice(0, 15));
      return new AppRing(memory);
    } catch (error) {
      memory.close();
      throw error;
    }
  }

  /** Maps an existing ring file. */
  static open(path: string): AppRing {
    const memory = FileRingMemory.open(path);
    try {
      return new AppRing(memory);
    } catch (error) {
      memory.close();
      throw error;
    }
  }

  /** Attaches to a ring shared by another thread (see `handle`). */
  static attach(handle: RingHandle): AppRing {
    return 'path' in handle ? AppRing.open(handle.path) : new AppRing(new SharedRingMemory(handle.buffer));
  }

  /** Pass this to another thread (postMessage) and AppRing.attach() it there. */
  get handle(): RingHandle {
    const buffer = this.memory.buffer;
    return this.path !== null ? { path: this.path } : { buffer: buffer as SharedArrayBuffer };
  }

  /** The writer's name, as given at creation. */
  get name(): string {
    const at = ctrlOffset(this.geometry) + CTRL.comm;
    const raw = this.memory.bytes.subarray(at, at + 16);
    const end = raw.indexOf(0);
    return new TextDecoder().decode(raw.subarray(0, end < 0 ? 16 : end));
  }

  /** Thread id of the writer holding the ring now (its events' common_pid), or 0. */
  get writerTid(): number {
    return this.#ctl.load(CTRL.writer);
  }

  /** Thread id of the most recent writer, also after it closed (0: never written). */
  get lastWriterTid(): number {
    return this.#ctl.load(CTRL.lastWriter);
  }

  /** Declares an event type; its format is published in the ring for every reader. */
  defineEvent<const S extends EventSchema>(schema: S): AppEvent<S> {
    return new AppEvent(this.formats.append((id) => layoutEvent(schema, id)));
  }

  /** Event types defined so far (by any thread or process), in definition order. */
  events(): AppEvent[] {
    return this.formats.entries().map((e) => new AppEvent(layoutFromFormat(e.system, e.text)));
  }

  /** A defined event type by name, or undefined. */
  event(name: string, system = 'app'): AppEvent | undefined {
    const e = this.formats.entries().find((f) => f.name === name && f.system === system);
    return e === undefined ? undefined : new AppEvent(layoutFromFormat(e.system, e.text));
  }

  /** Claims the writer role (one writer per ring) for the calling thread. */
  writer(options: RingWriterOptions = {}): RingWriter {
    const tid = native.gettid();
    this.#claim(CTRL.writer, CTRL.writerPid, tid, 'writer');
    this.#ctl.store(CTRL.lastWriter, tid);
    return new RingWriter(this.#ctl, this.mode, { pid: tid, ...options });
  }

  /** Claims the reader role: refused while another live reader holds it. */
  reader(options: { cpu?: number; onWarning?: WarningHandler } = {}): RingReader {
    const tid = native.gettid();
    this.#claim(CTRL.reader, CTRL.readerPid, tid, 'reader');
    return new RingReader(this.#ctl, options.cpu ?? 0, this.#label, options.onWarning ? { onWarning: options.onWarning } : {});
  }

  /** Gives up the reader role (a new reader may then claim it). */
  releaseReader(): void {
    this.#ctl.store(CTRL.reader, 0);
    this.#ctl.store(CTRL.readerPid, 0);
  }

  #claim(word: number, pidWord: number, tid: number, role: 'writer' | 'reader'): void {
    const ctl = this.#ctl;
    for (;;) {
      const holder = ctl.load(word);
      if (holder === 0) {
        if (ctl.cas(word, 0, tid)) break;
        continue;
      }
      if (!holderAlive(ctl.load(pidWord), holder)) {
        if (ctl.cas(word, holder, tid)) break; // a crashed holder's claim
        continue;
      }
      const who = `thread ${holder} of pid ${ctl.load(pidWord)}`;
      if (role === 'reader') {
        throw new ConcurrentReaderError(-1, `${this.#label} already has a reader (${who}); two readers would steal events from each other`);
      }
      throw new RingWriterBusyError(`${this.#label} already has a writer (${who}); a ring takes one writer`);
    }
    ctl.store(pidWord, process.pid);
  }

  /** The meta page and counters, without consuming anything. */
  stats(): RingStats {
    const meta = new MetaPage(this.memory.view).snapshot();
    const ctl = this.#ctl;
    const entries = ctl.load64(CTRL.entries);
    const overrun = ctl.load64(CTRL.overrun);
    return {
      ...meta,
      entries,
      overrun,
      mode: this.mode,
      dropped: ctl.load64(CTRL.dropped),
      // The writer publishes its counters per page: they may lag a little.
      unread: Math.max(0, entries - overrun - meta.read),
      writerClosed: (ctl.load(CTRL.flags) & 1) !== 0,
    };
  }

  /**
   * A ring cannot change size while mapped, as a kernel buffer cannot:
   * this creates a new ring file in place of `path` only when no process
   * maps the old one.
   */
  static resize(path: string, options: Omit<AppRingOptions, 'path'>): AppRing {
    const users = mappersOf(path);
    if (users.length > 0) {
      throw new BufferMappedError(`cannot resize ${path}: it is mapped by pid ${users.join(', ')}`, users);
    }
    fs.rmSync(path, { force: true });
    return AppRing.create({ ...options, path });
  }

  /** Unmaps the ring (the file stays: remove it when it is no longer needed). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.memory.close();
  }

  /** close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Processes whose /proc/PID/maps lists `path`. */
function mappersOf(path: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes(path)) pids.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}
