// The Parquet sink (docs/parquet.md): createParquetSink(dir, options) for
// record and convert. It writes in the calling thread (parquet-sink.ts),
// or, for a live input by default, in a worker thread (worker/), so that
// the capture's thread only copies sub-buffers.

import { InvalidArgumentError } from '../../errors.js';
import type { SinkEnd, SinkInput, SinkReport, TraceSink } from '../sink.js';
import { InlineParquetSink, type ParquetWriterOptions } from './parquet-sink.js';
import { WorkerParquetSink } from './worker/host.js';

/** Options of the Parquet sink (docs/parquet.md): segments, partition values, compression, memory, and where it writes. */
export interface ParquetSinkOptions extends ParquetWriterOptions {
  /**
   * Write in a worker thread: true, false, or 'auto' (the default): a
   * worker for a live input, the calling thread for a complete one.
   */
  worker?: boolean | 'auto';
}

/**
 * Writes an input as Parquet segments in hive partitions (events, losses,
 * processes, a manifest per run) for query engines; see docs/parquet.md.
 */
export class ParquetSink implements TraceSink {
  readonly kind = 'parquet';
  readonly dir: string;
  readonly #options: ParquetSinkOptions;
  #impl: InlineParquetSink | WorkerParquetSink | null = null;

  constructor(dir: string, options: ParquetSinkOptions = {}) {
    const { worker, ...writer } = options;
    if (worker !== undefined && worker !== true && worker !== false && worker !== 'auto') {
      throw new InvalidArgumentError(`worker must be true, false or 'auto', not ${String(worker)}`);
    }
    // Validates the options now, before any input.
    new InlineParquetSink(dir, writer);
    this.dir = dir;
    this.#options = options;
  }

  /** This run's id (in file names and the manifest), once open. */
  get run(): string {
    return this.#impl?.run ?? '';
  }

  /** Bytes written so far (committed segments, and the open one as far as known). */
  get bytesWritten(): number {
    return this.#impl?.bytesWritten ?? 0;
  }

  open(input: SinkInput): void | Promise<void> {
    const { worker = 'auto', ...writer } = this.#options;
    const inWorker = worker === true || (worker === 'auto' && input.live);
    this.#impl = inWorker ? new WorkerParquetSink(this.dir, writer) : new InlineParquetSink(this.dir, writer);
    return this.#impl.open(input);
  }

  consume(): void | Promise<void> {
    return this.#impl!.consume();
  }

  close(end: SinkEnd): Promise<SinkReport> {
    return this.#impl!.close(end);
  }

  abort(reason: unknown): void | Promise<void> {
    return this.#impl?.abort(reason);
  }
}

/** A Parquet sink writing into directory `dir` (created if absent; other runs' files in it are kept). */
export function createParquetSink(dir: string, options: ParquetSinkOptions = {}): ParquetSink {
  return new ParquetSink(dir, options);
}
