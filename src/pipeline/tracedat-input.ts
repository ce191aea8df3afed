// A trace.dat (tracering's or trace-cmd's: v6 or v7, zstd or not, one or
// several buffers) as an input for sinks.

import { emitProcessWarning } from '../errors.js';
import { type DecodeContext, loadDecodeContext } from '../output/decode-context.js';
import { TraceDat } from '../tracedat/reader.js';
import type { BufferInput, MachineInfo, SinkInput } from '../sinks/sink.js';
import { ReaderCursor } from './cursor.js';
import type { InputSource, OpenedInput } from './input.js';
import { type InputOptions, registerInput } from './open-input.js';

export class TraceDatInput implements InputSource {
  readonly kind = 'trace.dat' as const;
  readonly label: string;
  readonly dat: TraceDat;
  readonly #options: InputOptions;
  readonly #contexts = new Map<string, DecodeContext>();

  constructor(path: string, options: InputOptions = {}) {
    this.label = path;
    this.dat = TraceDat.open(path);
    this.#options = options;
  }

  #machine(): MachineInfo {
    const [sysname = '', hostname = '', release = '', machine = ''] = (this.dat.options.uname ?? '').split(' ');
    return {
      sysname,
      hostname,
      release,
      machine,
      bootId: '',
      onlineCpus: this.dat.options.cpuCount ?? this.dat.cpuCount,
      littleEndian: this.dat.littleEndian,
      longSize: this.dat.longSize,
    };
  }

  #context(buffer: BufferInput): DecodeContext {
    let ctx = this.#contexts.get(buffer.name);
    if (ctx === undefined) {
      const kallsyms = this.#options.kallsyms;
      ctx = loadDecodeContext(
        {
          files: buffer.files,
          clock: buffer.clock,
          kallsyms: kallsyms === undefined ? (this.dat.metadata.kallsyms ?? null) : kallsyms,
        },
        this.dat.littleEndian,
      );
      this.#contexts.set(buffer.name, ctx);
    }
    return ctx;
  }

  open(): OpenedInput {
    const dat = this.dat;
    const buffers: BufferInput[] = dat.buffers
      .filter((b) => b.kind === 'flyrecord')
      .map((b) => {
        const cursors = b.cpus.map((c) => {
          // Readers read the file through the TraceDat: nothing of theirs to close.
          return new ReaderCursor(dat.openCpu(b, c.cpu));
        });
        return {
          name: b.name,
          clock: b.clock,
          layout: dat.layout(b),
          cpus: cursors,
          files: dat.formatSource(b),
          startStats: new Map(dat.options.cpuStats.filter((s) => s.buffer === b.name).map((s) => [s.cpu, s.text])),
        };
      });
    const input: SinkInput = {
      live: false,
      label: this.label,
      buffers,
      rings: [],
      files: buffers[0]?.files ?? dat.formatSource(),
      kallsyms: () => dat.metadata.kallsyms ?? null,
      context: (buffer) => this.#context(buffer ?? buffers[0]!),
      machine: this.#machine(),
      clockPairs: [],
      onWarning: emitProcessWarning,
    };
    return { ...input, close: () => {} };
  }

  close(): void {
    this.#contexts.clear();
    this.dat.close();
  }
}

registerInput('trace.dat', (path, options) => new TraceDatInput(path, options));
