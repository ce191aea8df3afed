// One Parquet file, written row group by row group: "PAR1", the column
// chunks of each row group as they come, then the footer (FileMetaData,
// its length, "PAR1"). Until finish() the file is incomplete (no footer):
// callers write it under a temporary name and rename it afterwards.

import fs from 'node:fs';
import { dirname } from 'node:path';
import { type ColumnSpec, type EncodedChunk, schemaElements } from './column.js';
import { type ColumnMeta, type RowGroupMeta, encodeFileMeta } from './metadata.js';

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

function writeAll(fd: number, parts: readonly Uint8Array[], position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, parts as Uint8Array[], position, (error, written) => {
      if (error) return reject(error);
      const total = parts.reduce((a, p) => a + p.length, 0);
      if (written === total) return resolve();
      // A short write: the rest, from where it stopped.
      const rest: Uint8Array[] = [];
      let skip = written;
      for (const p of parts) {
        if (skip >= p.length) skip -= p.length;
        else {
          rest.push(p.subarray(skip));
          skip = 0;
        }
      }
      writeAll(fd, rest, position + written).then(resolve, reject);
    });
  });
}

export interface FinishedFile {
  readonly rows: number;
  readonly bytes: number;
  readonly rowGroups: number;
}

export class ParquetFileWriter {
  readonly path: string;
  readonly columns: readonly ColumnSpec[];
  /** Opened asynchronously (with its directory): the first write waits for it. */
  readonly #fd: Promise<number>;
  #offset = 0;
  #rows = 0;
  readonly #rowGroups: RowGroupMeta[] = [];
  /** Writes happen one after the other, in call order. */
  #tail: Promise<void>;
  #closed = false;

  /** Creates `path` (which must not exist; its directory is made if needed) and writes the leading magic. */
  constructor(path: string, columns: readonly ColumnSpec[], makeDir: (dir: string) => Promise<void> = mkdirOnce) {
    this.path = path;
    this.columns = columns;
    this.#fd = makeDir(dirname(path)).then(
      () => new Promise<number>((resolve, reject) => fs.open(path, 'wx', 0o644, (e, fd) => (e ? reject(e) : resolve(fd)))),
    );
    this.#tail = this.#fd.then((fd) => writeAll(fd, [MAGIC], 0));
    this.#offset = MAGIC.length;
  }

  get rows(): number {
    return this.#rows;
  }

  /** Bytes written or queued so far. */
  get bytes(): number {
    return this.#offset;
  }

  /** Appends a row group: one encoded chunk per column, in column order. */
  writeRowGroup(chunks: readonly EncodedChunk[], rows: number): Promise<void> {
    if (this.#closed) throw new Error(`${this.path}: row group after finish()`);
    if (chunks.length !== this.columns.length) throw new Error(`${this.path}: ${chunks.length} chunks for ${this.columns.length} columns`);
    const start = this.#offset;
    const parts: Uint8Array[] = [];
    const metas: ColumnMeta[] = [];
    let at = start;
    let uncompressed = 0;
    for (const c of chunks) {
      metas.push({ ...c.meta, dictionaryPageOffset: c.hasDictionary ? at : null, dataPageOffset: at + c.dataPageAt });
      for (const p of c.parts) {
        parts.push(p);
        at += p.length;
      }
      uncompressed += c.meta.uncompressedSize;
    }
    this.#rowGroups.push({ columns: metas, numRows: rows, totalByteSize: uncompressed, fileOffset: start, totalCompressedSize: at - start });
    this.#rows += rows;
    this.#offset = at;
    const write = this.#tail.then(async () => writeAll(await this.#fd, parts, start));
    this.#tail = write;
    return write;
  }

  /** Writes the footer, flushes the file to disk (unless told not to) and closes it. */
  async finish(keyValues: ReadonlyArray<readonly [string, string]>, createdBy: string, fsync = true): Promise<FinishedFile> {
    this.#closed = true;
    const footer = encodeFileMeta({
      schema: schemaElements(this.columns),
      numRows: this.#rows,
      rowGroups: this.#rowGroups,
      keyValues,
      createdBy,
      leafCount: this.columns.length,
    });
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(MAGIC, 4);
    const at = this.#offset;
    this.#offset += footer.length + 8;
    await this.#tail;
    const fd = await this.#fd;
    await writeAll(fd, [footer, tail], at);
    if (fsync) await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve, reject) => fs.close(fd, (e) => (e ? reject(e) : resolve())));
    return { rows: this.#rows, bytes: this.#offset, rowGroups: this.#rowGroups.length };
  }

  /** Closes and removes the incomplete file. */
  async discard(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#tail.catch(() => undefined);
      const fd = await this.#fd.catch(() => null);
      if (fd !== null) await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
    }
    await fs.promises.rm(this.path, { force: true });
  }
}

/** mkdir -p, once per directory per process (segments reuse their directories). */
const made = new Set<string>();
export function mkdirOnce(dir: string): Promise<void> {
  if (made.has(dir)) return Promise.resolve();
  return fs.promises.mkdir(dir, { recursive: true }).then(() => {
    made.add(dir);
  });
}
