// One segment: the files written between two rotations, one per event type
// (and one each for losses and processes). Files are written under
// temporary names; commit() finishes them (footers, fsync), renames them
// into place and reports what the segment holds, for the manifest.

import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { type ColumnSpec, encodeChunk } from './format/column.js';
import type { Compressor } from './format/compress.js';
import { ParquetFileWriter } from './format/file-writer.js';
import type { ManifestFile, ManifestSegment } from './manifest.js';
import { type Partition, type TableName, eventDir, partName, partitionDir, tempName } from './paths.js';
import { type Cell, writeSmallTable } from './small-table.js';
import type { EventRows } from './event-rows.js';
import type { TaskResolver } from './tasks.js';

export interface SegmentContext {
  readonly root: string;
  readonly run: string;
  readonly compressor: Compressor;
  readonly fsync: boolean;
  readonly createdBy: string;
  /** Key-value metadata of every file of this run. */
  readonly keyValues: ReadonlyArray<readonly [string, string]>;
}

interface OpenFile {
  readonly writer: ParquetFileWriter;
  readonly finalPath: string;
  readonly relPath: string;
  readonly system: string;
  readonly event: string;
  readonly keyValues: ReadonlyArray<readonly [string, string]>;
  /** Row groups written one after the other. */
  tail: Promise<void>;
}

export interface SmallTable {
  readonly table: TableName;
  readonly columns: readonly ColumnSpec[];
  readonly rows: readonly (readonly Cell[])[];
}

export class Segment {
  readonly seq: number;
  readonly partition: Partition;
  readonly startedAt: Date;
  readonly #ctx: SegmentContext;
  readonly #files = new Map<string, OpenFile>();
  /** Uncompressed bytes of row groups not yet written. */
  #pendingBytes = 0;
  /** Compressed bytes written (or queued with known size). */
  #writtenBytes = 0;
  #uncompressedDone = 0;
  rows = 0;
  #failed: unknown = null;
  /** Temporary files of the small tables, while commit() writes them. */
  readonly #smallTemps: string[] = [];
  #state: 'open' | 'committing' | 'done' | 'discarded' = 'open';

  constructor(ctx: SegmentContext, seq: number, partition: Partition, startedAt: Date) {
    this.#ctx = ctx;
    this.seq = seq;
    this.partition = partition;
    this.startedAt = startedAt;
  }

  /** Bytes this segment will take, as far as known (written, plus pending at the compression seen so far). */
  get estimatedBytes(): number {
    const ratio = this.#uncompressedDone > 0 ? this.#writtenBytes / this.#uncompressedDone : 0.3;
    return this.#writtenBytes + this.#pendingBytes * ratio;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** The first write error, rethrown by later calls. */
  get failure(): unknown {
    return this.#failed;
  }

  #file(rows: EventRows, formatText: string | null): OpenFile {
    let f = this.#files.get(rows.key);
    if (f !== undefined) return f;
    const ctx = this.#ctx;
    const dir = eventDir(this.partition, rows.system, rows.event);
    const name = partName(ctx.run, this.seq);
    const keyValues: Array<readonly [string, string]> = [
      ...ctx.keyValues,
      ['tracering.table', 'events'],
      ['tracering.segment', String(this.seq)],
      ['tracering.system', rows.system],
      ['tracering.event', rows.event],
    ];
    if (formatText !== null) keyValues.push(['tracering.format', formatText]);
    f = {
      writer: new ParquetFileWriter(join(ctx.root, dir, tempName(name)), rows.columns),
      finalPath: join(ctx.root, dir, name),
      relPath: join(dir, name),
      system: rows.system,
      event: rows.event,
      keyValues,
      tail: Promise.resolve(),
    };
    this.#files.set(rows.key, f);
    return f;
  }

  /**
   * Encodes the buffered rows of one event as a row group of its file. The
   * rows can be reset as soon as this returns; the write completes later.
   */
  writeRows(rows: EventRows, tasks: TaskResolver, formatText: string | null): void {
    if (this.#state !== 'open') throw new Error(`segment ${this.seq} is ${this.#state}`);
    if (this.#failed !== null) throw this.#failed;
    const n = rows.rows;
    if (n === 0) return;
    const f = this.#file(rows, formatText);
    const data = rows.columnRows(tasks);
    const chunks = rows.columns.map((c, i) => encodeChunk(c, data[i]!, this.#ctx.compressor));
    // Uncompressed size, known now: counts against the output budget until written.
    const estimate = data.reduce((a, d) => a + d.rows * 8, 0);
    this.#pendingBytes += estimate;
    this.rows += n;
    f.tail = f.tail
      .then(() => Promise.all(chunks))
      .then(async (encoded) => {
        await f.writer.writeRowGroup(encoded, n);
        this.#pendingBytes -= estimate;
        this.#writtenBytes += encoded.reduce((a, c) => a + c.meta.compressedSize, 0);
        this.#uncompressedDone += encoded.reduce((a, c) => a + c.meta.uncompressedSize, 0);
      })
      .catch((error: unknown) => {
        this.#pendingBytes -= estimate;
        this.#failed ??= error;
      });
  }

  /** Settles when every row group handed over so far is written. */
  async settled(): Promise<void> {
    await Promise.all([...this.#files.values()].map((f) => f.tail));
    if (this.#failed !== null) throw this.#failed;
  }

  /**
   * Finishes every file (footer, fsync), writes the small tables, renames
   * everything into place. The segment is visible (and committed once the
   * caller lists it in the manifest) when this resolves.
   */
  async commit(small: readonly SmallTable[], range: { min: bigint | null; max: bigint | null }): Promise<ManifestSegment> {
    if (this.#state !== 'open') throw new Error(`segment ${this.seq} is ${this.#state}`);
    this.#state = 'committing';
    const ctx = this.#ctx;
    await this.settled();
    const done: Array<{ temp: string; final: string; entry: ManifestFile }> = [];
    const finished = await Promise.all(
      [...this.#files.values()].map(async (f) => ({ f, result: await f.writer.finish(f.keyValues, ctx.createdBy, ctx.fsync) })),
    );
    for (const { f, result } of finished) {
      done.push({
        temp: f.writer.path,
        final: f.finalPath,
        entry: { table: 'events', path: f.relPath, rows: result.rows, bytes: result.bytes, system: f.system, event: f.event },
      });
    }
    for (const t of small) {
      const dir = partitionDir(t.table, this.partition);
      const name = partName(ctx.run, this.seq);
      const temp = join(ctx.root, dir, tempName(name));
      this.#smallTemps.push(temp);
      const keyValues = [...ctx.keyValues, ['tracering.table', t.table] as const, ['tracering.segment', String(this.seq)] as const];
      const result = await writeSmallTable(temp, t.columns, t.rows, ctx.compressor, keyValues, ctx.createdBy, ctx.fsync);
      done.push({ temp, final: join(ctx.root, dir, name), entry: { table: t.table, path: join(dir, name), rows: result.rows, bytes: result.bytes } });
    }
    if (this.#state !== 'committing') throw new Error(`segment ${this.seq} was discarded while committing`);
    const dirs = new Set<string>();
    await Promise.all(
      done.map(async (d) => {
        await fs.promises.rename(d.temp, d.final);
        dirs.add(dirname(d.final));
      }),
    );
    if (ctx.fsync) await Promise.all([...dirs].map(syncDir));
    this.#state = 'done';
    const bytes = done.reduce((a, d) => a + d.entry.bytes, 0);
    return {
      seq: this.seq,
      started_at: this.startedAt.toISOString(),
      closed_at: new Date().toISOString(),
      rows: this.rows,
      bytes,
      ts_min: range.min === null ? null : String(range.min),
      ts_max: range.max === null ? null : String(range.max),
      files: done.map((d) => d.entry),
    };
  }

  /** Removes the segment's incomplete files. */
  async discard(): Promise<void> {
    if (this.#state === 'done' || this.#state === 'discarded') return;
    this.#state = 'discarded';
    await Promise.all([...this.#files.values()].map((f) => f.writer.discard().catch(() => undefined)));
    await Promise.all(this.#smallTemps.map((temp) => fs.promises.rm(temp, { force: true })));
  }
}

/** Makes renames in `dir` durable (best effort: some filesystems refuse fsync on directories). */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await fs.promises.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not durable, still correct
  }
}
