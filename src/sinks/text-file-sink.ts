// Kernel text or JSON Lines into a file (convert IN out.txt / out.json):
// written as OUT.tmp and renamed when complete.

import fs from 'node:fs';
import { FdWriter } from '../output/fd-writer.js';
import { registerSink } from './factory.js';
import { fileError } from './file-errors.js';
import type { SinkEnd, SinkInput, SinkReport, TraceSink } from './sink.js';
import { TextSink } from './text-sink.js';

/** Kernel text or JSON Lines into a file. */
export class TextFileSink implements TraceSink {
  readonly kind: 'text' | 'json';
  readonly path: string;
  #fd = -1;
  #inner: TextSink | null = null;
  #writer: FdWriter | null = null;

  constructor(path: string, format: 'text' | 'json') {
    this.path = path;
    this.kind = format;
  }

  open(input: SinkInput): void {
    try {
      this.#fd = fs.openSync(`${this.path}.tmp`, 'w');
    } catch (error) {
      throw fileError(error, `${this.path}.tmp`, 'create');
    }
    this.#writer = new FdWriter(this.#fd);
    this.#inner = new TextSink({ format: this.kind, output: this.#writer, header: this.kind === 'text' && !input.live, lostMarkers: input.live });
    this.#inner.open(input);
  }

  consume(): Promise<void> {
    return this.#inner!.consume();
  }

  async close(end: SinkEnd): Promise<SinkReport> {
    const report = await this.#inner!.close(end);
    fs.closeSync(this.#fd);
    this.#fd = -1;
    try {
      fs.renameSync(`${this.path}.tmp`, this.path);
    } catch (error) {
      throw fileError(error, this.path, 'rename into place');
    }
    return { ...report, path: this.path };
  }

  abort(): void {
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
    fs.rmSync(`${this.path}.tmp`, { force: true });
  }
}

registerSink('text', (path) => new TextFileSink(path, 'text'));
registerSink('json', (path) => new TextFileSink(path, 'json'));
