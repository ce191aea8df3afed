// The Parquet writer running in the thread that calls it (in the capture's
// thread, or in a worker: worker/): a directory of columnar segments that
// DuckDB, ClickHouse, Spark, Trino... read in place (paths.ts has the
// layout, schema.ts the tables, docs/queries.md the SQL).
//
// Rows are buffered per event type and written as row groups when an
// event reaches rowGroupRows, or when the buffers pass the memory budget
// (the largest first). A segment ends after segmentMb of output or
// segmentS seconds (event time; for a live input also wall time, so that
// an idle capture still publishes what it has), and is committed in the
// background while the next fills: footers, fsync, renames, then its entry
// in the run's manifest. A crash loses the open segment only; the next run
// in the same directory moves its leftovers aside and says so.

import fs from 'node:fs';
import { InvalidArgumentError, type TraceringWarning, UnsupportedError, WarningCode } from '../../errors.js';
import type { SinkEnd, SinkInput, SinkReport, TraceSink } from '../sink.js';
import { realtimeOffset } from './clock.js';
import { type CompressionName, type Compressor, createCompressor, zstdAvailable } from './format/compress.js';
import type { EventRows } from './event-rows.js';
import { Ingest, type Source, type SourceStats } from './ingest.js';
import { type Manifest, type ManifestSegment, manifestPath, writeManifest } from './manifest.js';
import { manifestDir, newRunId, utcDate } from './paths.js';
import { RunLock, recoverLeftovers } from './recovery.js';
import { LOSSES_COLUMNS, PROCESSES_COLUMNS, SCHEMA_VERSION } from './schema.js';
import { Segment, type SegmentContext, type SmallTable } from './segment.js';
import { lossRows, processRows } from './tables.js';
import { TaskResolver } from './tasks.js';
import { packageVersion } from '../../package-root.js';

/** How the Parquet writer segments, compresses and buffers (docs/parquet.md). */
export interface ParquetWriterOptions {
  /** A segment ends once it holds about this many MiB of output (default 64). */
  segmentMb?: number;
  /** ... or spans this many seconds (default 300). */
  segmentS?: number;
  /** The host column and partition (default: the input machine's hostname). */
  host?: string;
  /** The boot_id column and partition (default: the input machine's boot id, else 'unknown'). */
  bootId?: string;
  /** Page compression (default zstd where Node has it, 22.15+; else gzip). */
  compression?: CompressionName;
  compressionLevel?: number;
  /** Rows per row group of one event type (default 65536). */
  rowGroupRows?: number;
  /** Rows buffered across event types before the largest are written early (default 64 MiB). */
  memoryMb?: number;
  /** fsync files before they become visible (default true). */
  fsync?: boolean;
  /** Leave out application rings. */
  noRings?: boolean;
}

export interface Settings {
  readonly segmentBytes: number;
  readonly segmentNs: number;
  readonly segmentMs: number;
  readonly rowGroupRows: number;
  readonly memoryBytes: number;
  readonly fsync: boolean;
  readonly compression: CompressionName;
}

/** Uncompressed bytes in flight to the disk before consume() waits for them. */
const MAX_PENDING_BYTES = 64 << 20;
/** Rows appended between checks of the memory budget and of the segment's size and age. */
const CHECK_EVERY_ROWS = 8192;

function positive(name: string, v: number | undefined, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) throw new InvalidArgumentError(`${name} must be a number in (0, ${max}], not ${String(v)}`);
  return v;
}

export function settingsOf(o: ParquetWriterOptions): Settings {
  const segmentMb = positive('segmentMb', o.segmentMb, 64, 1 << 20);
  const segmentS = positive('segmentS', o.segmentS, 300, 366 * 86400);
  const rowGroupRows = positive('rowGroupRows', o.rowGroupRows, 65536, 1 << 22);
  if (!Number.isInteger(rowGroupRows)) throw new InvalidArgumentError(`rowGroupRows must be an integer, not ${rowGroupRows}`);
  const memoryMb = positive('memoryMb', o.memoryMb, 64, 1 << 20);
  const compression = o.compression ?? (zstdAvailable() ? 'zstd' : 'gzip');
  if (!['gzip', 'zstd', 'none'].includes(compression)) throw new InvalidArgumentError(`compression must be gzip, zstd or none, not ${String(compression)}`);
  if (compression === 'zstd' && !zstdAvailable()) throw new UnsupportedError(`zstd compression needs Node 22.15 or later (this is ${process.version}); use gzip`);
  return {
    segmentBytes: segmentMb * 1048576,
    segmentNs: segmentS * 1e9,
    segmentMs: segmentS * 1000,
    rowGroupRows,
    memoryBytes: memoryMb * 1048576,
    fsync: o.fsync ?? true,
    compression,
  };
}


export function checkName(what: string, v: string | undefined): void {
  if (v === undefined) return;
  if (typeof v !== 'string' || v.length === 0 || v.length > 255 || /[\0\n]/.test(v)) throw new InvalidArgumentError(`${what} must be a non-empty single-line string`);
}

export class InlineParquetSink implements TraceSink {
  readonly kind = 'parquet';
  readonly dir: string;
  readonly #options: ParquetWriterOptions;
  readonly #settings: Settings;
  #input: SinkInput | null = null;
  #run = '';
  #host = '';
  #bootId = '';
  #lock: RunLock | null = null;
  #manifest: Manifest | null = null;
  #manifestFile = '';
  #ingest: Ingest | null = null;
  #tasks: TaskResolver | null = null;
  #compressor: Compressor | null = null;
  #segmentCtx: SegmentContext | null = null;
  /** The segment receiving row groups (created at its first row group). */
  #segment: Segment | null = null;
  #seq = 0;
  /** Wall time the open segment got its first row (null: no rows yet). */
  #segmentSince: number | null = null;
  /** Segments being committed, in order. */
  #commits: Promise<void> = Promise.resolve();
  #commitsPending = 0;
  /** consume(), rotations by the timer and close() run one at a time. */
  #ops: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  readonly #formats = new Map<string, string | null>();
  #events = 0;
  #bytes = 0;
  readonly #notes: string[] = [];
  #failure: unknown = null;
  #state: 'new' | 'open' | 'closed' | 'aborted' = 'new';

  constructor(dir: string, options: ParquetWriterOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('the Parquet output directory must be a non-empty path');
    checkName('host', options.host);
    checkName('bootId', options.bootId);
    this.dir = dir;
    this.#options = options;
    this.#settings = settingsOf(options);
  }

  /** This run's id (in file names and the manifest). */
  get run(): string {
    return this.#run;
  }

  /** Bytes of committed segments, and of the open segment as far as known. */
  get bytesWritten(): number {
    return this.#bytes + (this.#segment?.estimatedBytes ?? 0);
  }

  open(input: SinkInput): void {
    if (this.#state !== 'new') throw new InvalidArgumentError('a ParquetSink is opened once');
    const s = this.#settings;
    this.#input = input;
    this.#host = this.#options.host ?? (input.machine.hostname || 'unknown');
    this.#bootId = this.#options.bootId ?? (input.machine.bootId || 'unknown');
    this.#run = newRunId();
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      fs.accessSync(this.dir, fs.constants.W_OK);
    } catch (error) {
      throw new InvalidArgumentError(`cannot write the Parquet output directory ${this.dir}: ${(error as Error).message}`);
    }
    const mdir = manifestDir(this.#host);
    this.#lock = RunLock.take(`${this.dir}/${mdir}/${this.#run}.lock`);
    const recovered = recoverLeftovers(this.dir, this.#run, s.fsync);
    if (recovered.length > 0) {
      const runs = [...new Set(recovered.map((r) => r.run))];
      const message =
        `${this.dir}: ${recovered.length} file(s) of ${runs.length} earlier run(s) that did not finish (${runs.join(', ')}) ` +
        `were moved to ${this.dir}/_quarantine/; their committed segments are intact`;
      this.#notes.push(message);
      const warning: TraceringWarning = { code: WarningCode.parquetLeftover, message };
      input.onWarning(warning);
    }
    this.#compressor = createCompressor(s.compression, this.#options.compressionLevel);
    this.#tasks = new TaskResolver(input.files, input.live);
    this.#ingest = new Ingest(input, { host: this.#host, bootId: this.#bootId }, this.#tasks, !this.#options.noRings, s.rowGroupRows);
    const realtime = realtimeOffset(input.clockPairs);
    const clocks = this.#ingest.groups.map((g) => ({ source: g.name, source_clock: g.clock.source, ts_clock: g.clock.clock, offset_ns: String(g.clock.offset) }));
    const tsClockName = clocks[0]?.ts_clock ?? 'boot';
    this.#segmentCtx = {
      root: this.dir,
      run: this.#run,
      compressor: this.#compressor,
      fsync: s.fsync,
      createdBy: `tracering ${packageVersion()}`,
      keyValues: [
        ['tracering.schema_version', String(SCHEMA_VERSION)],
        ['tracering.run', this.#run],
        ['tracering.host', this.#host],
        ['tracering.boot_id', this.#bootId],
        ['tracering.ts_clock', tsClockName],
        ['tracering.clocks', JSON.stringify(clocks)],
        ['tracering.realtime_offset_ns', realtime === null ? '' : String(realtime)],
      ],
    };
    const m = input.machine;
    this.#manifest = {
      format: 'tracering-parquet',
      schema_version: SCHEMA_VERSION,
      run: this.#run,
      host: this.#host,
      boot_id: this.#bootId,
      input: input.label,
      live: input.live,
      machine: { sysname: m.sysname, release: m.release, machine: m.machine, online_cpus: m.onlineCpus },
      started_at: new Date().toISOString(),
      closed_at: null,
      complete: false,
      end_reason: null,
      ts: { clocks, realtime_offset_ns: realtime === null ? null : String(realtime) },
      options: { segment_mb: s.segmentBytes / 1048576, segment_s: s.segmentMs / 1000, compression: s.compression, row_group_rows: s.rowGroupRows },
      layout: {
        events: 'events/host=HOST/boot=BOOT/date=YYYY-MM-DD/system=SYSTEM/event=EVENT/part-RUN-SEQ.parquet',
        losses: 'losses/host=HOST/boot=BOOT/date=YYYY-MM-DD/part-RUN-SEQ.parquet',
        processes: 'processes/host=HOST/boot=BOOT/date=YYYY-MM-DD/part-RUN-SEQ.parquet',
      },
      segments: [],
      recovered,
    };
    this.#manifestFile = manifestPath(this.dir, mdir, this.#run);
    writeManifest(this.#manifestFile, this.#manifest, s.fsync);
    this.#state = 'open';
    if (input.live) {
      this.#timer = setInterval(() => this.#onTimer(), Math.min(1000, s.segmentMs / 4));
      this.#timer.unref();
    }
  }

  consume(): Promise<void> {
    return this.#serial(() => this.#drain());
  }

  async close(end: SinkEnd): Promise<SinkReport> {
    await this.#serial(async () => {
      this.#stopTimer();
      await this.#rotate(end);
      await this.#commits;
      this.#rethrow();
      const m = this.#manifest!;
      m.complete = true;
      m.closed_at = new Date().toISOString();
      m.end_reason = end.reason;
      writeManifest(this.#manifestFile, m, this.#settings.fsync);
      this.#lock?.release();
      this.#state = 'closed';
    });
    return { kind: this.kind, path: this.dir, bytes: this.#bytes, events: this.#events, notes: [...this.#notes] };
  }

  async abort(reason: unknown): Promise<void> {
    if (this.#state === 'aborted' || this.#state === 'closed') return;
    const opened = this.#state === 'open';
    this.#state = 'aborted';
    this.#stopTimer();
    if (!opened) return;
    await this.#commits.catch(() => undefined);
    await this.#segment?.discard();
    this.#segment = null;
    const m = this.#manifest!;
    m.complete = false;
    m.closed_at = new Date().toISOString();
    m.end_reason = `aborted: ${reason instanceof Error ? reason.message : String(reason)}`;
    try {
      writeManifest(this.#manifestFile, m, this.#settings.fsync);
    } finally {
      this.#lock?.release();
    }
  }

  #serial(op: () => Promise<void>): Promise<void> {
    const run = this.#ops.then(() => {
      if (this.#state !== 'open') throw new InvalidArgumentError(`the Parquet sink is ${this.#state}`);
      this.#rethrow();
      return op();
    });
    this.#ops = run.catch(() => undefined);
    return run;
  }

  #rethrow(): void {
    if (this.#failure !== null) throw this.#failure;
    const f = this.#segment?.failure;
    if (f !== null && f !== undefined) throw f;
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #onTimer(): void {
    if (this.#segmentSince === null || Date.now() - this.#segmentSince < this.#settings.segmentMs) return;
    this.#serial(() => this.#rotate(null)).catch((error: unknown) => {
      this.#failure ??= error;
    });
  }

  /** Appends everything the cursors hold now. */
  async #drain(): Promise<void> {
    const ingest = this.#ingest!;
    const s = this.#settings;
    for (;;) {
      const touched = ingest.appendNext();
      if (touched === null) break;
      if (touched.length > 0 && this.#segmentSince === null) this.#segmentSince = Date.now();
      for (const rows of touched) if (rows.rows >= s.rowGroupRows || rows.dictionaryFull) this.#flush(rows);
      if (ingest.rowsSinceCheck >= CHECK_EVERY_ROWS) {
        ingest.rowsSinceCheck = 0;
        const buffered = this.#checkMemory();
        if (this.#due(buffered)) await this.#rotate(null);
        else if (this.#segment !== null && this.#segment.pendingBytes > MAX_PENDING_BYTES) await this.#segment.settled();
      }
    }
    if (this.#due(this.#bufferedBytes())) await this.#rotate(null);
  }

  #bufferedBytes(): number {
    let total = 0;
    for (const rows of this.#ingest!.rows.values()) total += rows.bytes;
    return total;
  }

  /**
   * Keeps the memory the row buffers take under the budget: when they pass
   * it, the largest are written early and given back. Returns the bytes of
   * rows still buffered.
   */
  #checkMemory(): number {
    const all = [...this.#ingest!.rows.values()];
    let total = all.reduce((a, r) => a + r.capacityBytes, 0);
    if (total > this.#settings.memoryBytes) {
      all.sort((a, b) => b.capacityBytes - a.capacityBytes);
      for (const rows of all) {
        if (total <= this.#settings.memoryBytes * 0.75) break;
        const before = rows.capacityBytes;
        if (rows.rows > 0) this.#flush(rows);
        rows.release();
        total -= before - rows.capacityBytes;
      }
    }
    return this.#bufferedBytes();
  }

  /** The open segment is full or old enough. */
  #due(buffered: number): boolean {
    if (this.#segmentSince === null) return false;
    const s = this.#settings;
    const seg = this.#segment;
    const bytes = (seg?.estimatedBytes ?? 0) + buffered * 0.25;
    if (bytes >= s.segmentBytes) return true;
    if (this.#input!.live && Date.now() - this.#segmentSince >= s.segmentMs) return true;
    let min: bigint | null = null;
    let max: bigint | null = null;
    for (const src of this.#ingest!.sources) {
      if (src.stats.tsMin === null || src.stats.tsMax === null || src.group.clock.clock !== 'boot') continue;
      if (min === null || src.stats.tsMin < min) min = src.stats.tsMin;
      if (max === null || src.stats.tsMax > max) max = src.stats.tsMax;
    }
    return min !== null && max !== null && Number(max - min) >= s.segmentNs;
  }

  #openSegment(): Segment {
    if (this.#segment !== null) return this.#segment;
    this.#seq++;
    this.#segment = new Segment(this.#segmentCtx!, this.#seq, { host: this.#host, boot: this.#bootId, date: this.#segmentDate() }, new Date());
    return this.#segment;
  }

  /** The UTC date of the segment's earliest event, where ts converts to wall time; else today. */
  #segmentDate(): string {
    const realtime = realtimeOffset(this.#input!.clockPairs);
    let min: bigint | null = null;
    for (const src of this.#ingest!.sources) {
      if (src.group.clock.clock !== 'boot' || src.stats.tsMin === null) continue;
      if (min === null || src.stats.tsMin < min) min = src.stats.tsMin;
    }
    if (realtime === null || min === null) return utcDate(Date.now());
    return utcDate(Number((min + realtime) / 1000000n));
  }

  #flush(rows: EventRows): void {
    this.#openSegment().writeRows(rows, this.#tasks!, this.#formatText(rows));
    rows.reset();
  }

  #formatText(rows: EventRows): string | null {
    if (rows.schema === null) return null;
    let text = this.#formats.get(rows.key);
    if (text === undefined) {
      text = null;
      const f = rows.schema.format;
      for (const g of this.#ingest!.groups) {
        try {
          text = g.formats.readFormat(f.system, f.name);
          break;
        } catch {
          // not this group's event
        }
      }
      this.#formats.set(rows.key, text);
    }
    return text;
  }

  /**
   * Ends the open segment: writes what is buffered, commits it in the
   * background (in order). `end` marks the last segment, which is written
   * even when empty (its losses table has the final counters).
   */
  async #rotate(end: SinkEnd | null): Promise<void> {
    const ingest = this.#ingest!;
    if (end === null && this.#segmentSince === null) return;
    for (const rows of ingest.rows.values()) if (rows.rows > 0) this.#flush(rows);
    const seg = this.#openSegment();
    const stats = ingest.takeStats();
    const id = { host: this.#host, bootId: this.#bootId, run: this.#run, seq: seg.seq };
    const live = this.#input!.live;
    const small: SmallTable[] = [{ table: 'losses', columns: LOSSES_COLUMNS, rows: lossRows(id, stats, live, end) }];
    if (live || end !== null) small.push({ table: 'processes', columns: PROCESSES_COLUMNS, rows: processRows(id, this.#tasks!, live) });
    const range = rangeOf(stats);
    this.#segment = null;
    this.#segmentSince = null;
    this.#tasks!.refresh();
    this.#commitsPending++;
    this.#commits = this.#commits.then(async () => {
      try {
        if (this.#state === 'aborted') return seg.discard();
        const entry = await seg.commit(small, range);
        this.#record(entry);
      } catch (error) {
        this.#failure ??= error;
        await seg.discard();
      } finally {
        this.#commitsPending--;
      }
    });
    // One segment commits while the next fills; a second one waits.
    if (end !== null || this.#commitsPending > 1) await this.#commits;
    this.#rethrow();
  }

  #record(entry: ManifestSegment): void {
    const m = this.#manifest!;
    m.segments.push(entry);
    writeManifest(this.#manifestFile, m, this.#settings.fsync);
    for (const f of entry.files) if (f.table === 'events') this.#events += f.rows;
    this.#bytes += entry.bytes;
  }
}

function rangeOf(stats: ReadonlyMap<Source, SourceStats>): { min: bigint | null; max: bigint | null } {
  let min: bigint | null = null;
  let max: bigint | null = null;
  for (const s of stats.values()) {
    if (s.tsMin !== null && (min === null || s.tsMin < min)) min = s.tsMin;
    if (s.tsMax !== null && (max === null || s.tsMax > max)) max = s.tsMax;
  }
  return { min, max };
}
