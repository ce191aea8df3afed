// The Parquet writer in a worker thread. The thread that owns the input's
// cursors (the capture's) only copies whole sub-buffers out of them
// (cursor.nextPages()) and hands them over; decoding, column building,
// encoding and the files happen in the worker. consume() returns once the
// pages are handed over, and waits only while more than MAX_IN_FLIGHT
// bytes are on their way (backpressure).

import type { Worker } from 'node:worker_threads';
import { siblingModule, spawnWorker } from '../../../capture/spawn-worker.js';
import { TraceringError, type WarningCode } from '../../../errors.js';
import type { CpuCursor, SinkEnd, SinkInput, SinkReport, TraceSink } from '../../sink.js';
import type { ParquetWriterOptions } from '../parquet-sink.js';
import { type SourceSnapshot, takeFiles, takeSnapshot } from './memory-source.js';
import type { FileUpdates, FromWorker, ToWorker, WireError, WireRun, WorkerInput } from './protocol.js';

/** Page bytes handed to the worker and not yet written into rows. */
const MAX_IN_FLIGHT = 64 << 20;
/** Pages per message (a large input goes over in pieces). */
const MESSAGE_BYTES = 8 << 20;
/** How often (at most) the files that change are sent again. */
const REFRESH_MS = 1000;
/** How long abort() waits for the worker to remove its partial output. */
const ABORT_WAIT_MS = 10_000;

function fromWire(e: WireError): Error {
  return e.code !== null ? new TraceringError(e.code, e.message) : Object.assign(new Error(e.message), { name: e.name });
}

/** A worker running parquet-worker (a sibling module: also in the CLI's bundle, where the bundled worker sits next to it). */
function startWorker(workerData: WorkerInput): Worker {
  return spawnWorker(siblingModule(import.meta.url, 'parquet-worker'), { workerData });
}

export class WorkerParquetSink implements TraceSink {
  readonly kind = 'parquet';
  readonly dir: string;
  readonly #options: ParquetWriterOptions;
  #worker: Worker | null = null;
  #input: SinkInput | null = null;
  #cursors: CpuCursor[] = [];
  #run = '';
  #inFlight = 0;
  #failure: Error | null = null;
  #waiters: Array<() => void> = [];
  #replies = new Map<string, (m: FromWorker) => void>();
  #lastRefresh = 0;
  #ringEvents: number[] = [];
  #closed = false;
  #written = 0;

  constructor(dir: string, options: ParquetWriterOptions) {
    this.dir = dir;
    this.#options = options;
  }

  get run(): string {
    return this.#run;
  }

  /** Bytes the worker had written at its last answer. */
  get bytesWritten(): number {
    return this.#written;
  }

  async open(input: SinkInput): Promise<void> {
    this.#input = input;
    this.#cursors = [...input.buffers.flatMap((b) => b.cpus), ...(this.#options.noRings ? [] : input.rings.map((r) => r.cursor))];
    const rings = this.#options.noRings ? [] : input.rings;
    this.#ringEvents = rings.map((r) => r.formats.listEvents().length);
    const data: WorkerInput = {
      dir: this.dir,
      options: this.#options,
      live: input.live,
      label: input.label,
      machine: input.machine,
      clockPairs: input.clockPairs,
      root: takeFiles(input.files),
      buffers: input.buffers.map((b) => ({
        name: b.name,
        clock: b.clock,
        layout: b.layout,
        cpus: b.cpus.map((c) => c.cpu),
        startStats: [...b.startStats],
        files: takeSnapshot(b.files, b.cpus.map((c) => `per_cpu/cpu${c.cpu}/stats`)),
      })),
      rings: rings.map((r) => ({ name: r.name, path: r.path, cpu: r.cursor.cpu, layout: r.cursor.layout, writerPid: r.writerPid, writerTid: r.writerTid, formats: takeSnapshot(r.formats) })),
    };
    const worker = startWorker(data);
    this.#worker = worker;
    // Held only while something is asked of it (a reply, pages in flight): an open sink never keeps the process alive.
    worker.unref();
    worker.on('message', (m: FromWorker) => this.#onMessage(m));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => {
      if (!this.#closed && this.#failure === null) this.#fail(new Error(`the Parquet worker exited (code ${code})`));
    });
    const opened = await this.#reply(['opened', 'error']);
    if (opened.type === 'error') {
      await worker.terminate();
      throw fromWire(opened.error);
    }
    if (opened.type === 'opened') this.#run = opened.run;
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'consumed':
        this.#inFlight -= m.bytes;
        this.#written = m.written;
        this.#hold();
        this.#wake();
        return;
      case 'warning':
        this.#input?.onWarning({ code: m.code as WarningCode, message: m.message, ...(m.cpu !== undefined ? { cpu: m.cpu } : {}) });
        return;
      case 'error':
        this.#fail(fromWire(m.error));
        break;
    }
    for (const [types, resolve] of this.#replies) {
      if (types.split(',').includes(m.type)) {
        this.#replies.delete(types);
        resolve(m);
      }
    }
    this.#hold();
  }

  /** Keeps the process alive exactly while the worker owes an answer or holds pages. */
  #hold(): void {
    const w = this.#worker;
    if (w === null) return;
    if (this.#replies.size > 0 || this.#inFlight > 0) w.ref();
    else w.unref();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#wake();
    for (const [, resolve] of this.#replies) resolve({ type: 'error', error: { name: error.name, code: (error as { code?: string }).code ?? null, message: error.message } });
    this.#replies.clear();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #reply(types: FromWorker['type'][]): Promise<FromWorker> {
    const p = new Promise<FromWorker>((resolve) => this.#replies.set(types.join(','), resolve));
    this.#hold();
    return p;
  }

  #send(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.#worker!.postMessage(m, transfer);
  }

  /** The files that change while a live input runs, at most once per REFRESH_MS (always at the end). */
  #updates(force: boolean): FileUpdates | null {
    const input = this.#input!;
    if (!input.live) return null;
    const now = Date.now();
    if (!force && now - this.#lastRefresh < REFRESH_MS) return null;
    this.#lastRefresh = now;
    const rings: Array<SourceSnapshot | null> = [];
    (this.#options.noRings ? [] : input.rings).forEach((r, i) => {
      const n = r.formats.listEvents().length;
      rings.push(n !== this.#ringEvents[i] ? takeSnapshot(r.formats) : null);
      this.#ringEvents[i] = n;
    });
    return {
      root: { saved_cmdlines: input.files.readOptional('saved_cmdlines'), saved_tgids: input.files.readOptional('saved_tgids') },
      buffers: input.buffers.map((b) => Object.fromEntries(b.cpus.map((c) => [`per_cpu/cpu${c.cpu}/stats`, b.files.readOptional(`per_cpu/cpu${c.cpu}/stats`)]))),
      rings,
    };
  }

  async consume(): Promise<void> {
    if (this.#failure !== null) throw this.#failure;
    let runs: WireRun[] = [];
    let transfer: ArrayBuffer[] = [];
    let bytes = 0;
    const send = (files: FileUpdates | null) => {
      if (runs.length === 0 && files === null) return;
      this.#inFlight += bytes;
      this.#send({ type: 'data', runs, files, bytes }, transfer);
      this.#hold();
      runs = [];
      transfer = [];
      bytes = 0;
    };
    for (let source = 0; source < this.#cursors.length; source++) {
      const cursor = this.#cursors[source]!;
      for (let run = cursor.nextPages(); run !== null; run = cursor.nextPages()) {
        const copy = run.bytes.slice();
        runs.push({ source, bytes: copy.buffer, pages: run.pages, lostBefore: run.lostBefore });
        transfer.push(copy.buffer);
        bytes += copy.byteLength;
        if (bytes >= MESSAGE_BYTES) {
          // A large input (a whole file) goes over in pieces, never more than MAX_IN_FLIGHT at a time.
          send(null);
          await this.#drained();
        }
      }
    }
    send(this.#updates(false));
    await this.#drained();
  }

  /** Waits while more than MAX_IN_FLIGHT bytes are with the worker. */
  async #drained(): Promise<void> {
    while (this.#inFlight > MAX_IN_FLIGHT && this.#failure === null) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    if (this.#failure !== null) throw this.#failure;
  }

  async close(end: SinkEnd): Promise<SinkReport> {
    if (this.#failure !== null) throw this.#failure;
    const reply = this.#reply(['closed', 'error']);
    this.#send({ type: 'close', end, files: this.#updates(true) });
    const m = await reply;
    this.#closed = true;
    await this.#worker?.terminate();
    if (m.type === 'error') throw fromWire(m.error);
    if (m.type !== 'closed') throw new Error(`the Parquet worker answered ${m.type}`);
    this.#written = m.report.bytes;
    return m.report;
  }

  async abort(reason: unknown): Promise<void> {
    if (this.#closed || this.#worker === null) return;
    this.#closed = true;
    const worker = this.#worker;
    if (this.#failure === null) {
      const done = this.#reply(['aborted', 'error']);
      this.#send({ type: 'abort', reason: reason instanceof Error ? reason.message : String(reason) });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, ABORT_WAIT_MS)))]);
      clearTimeout(timer);
    }
    await worker.terminate();
  }
}
