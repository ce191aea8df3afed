// Events as the kernel's `trace` / `trace_pipe` files print them
// (kernel-abi.md §8): the header, one line per event, loss markers.
// Lines are written as UTF-8 bytes (writeLine, the hot path); line()
// decodes them into a string.

import type { EventRenderer } from '../decode/renderer.js';
import { TextOut } from '../decode/text-out.js';
import type { RecordBatch } from '../layout/record.js';
import { PrefixWriter, clockInNs } from './line-prefix.js';
import type { TaskNames } from './task-names.js';

/** Options of KernelText. */
export interface KernelTextOptions {
  /** Trace clock of the events: nanosecond clocks print seconds.micros, others raw counts. */
  clock: string;
  tasks: TaskNames;
  /** The `record-tgid` option: a TGID column. */
  recordTgid?: boolean;
  /** The `irq-info` option (default on): the five latency columns. */
  irqInfo?: boolean;
  /** The `context-info` option (default on): off, lines are the bare event text and the header has no columns. */
  contextInfo?: boolean;
  /** The `verbose` option (default off): the header has no columns. */
  verbose?: boolean;
  /** Byte order of the recording kernel (default little endian). */
  littleEndian?: boolean;
}

/** The figures of the `trace` file's header. */
export interface HeaderFigures {
  /** Unread events in the buffers. */
  entriesInBuffer: number;
  /** Unread plus overwritten events. */
  entriesWritten: number;
  /** Online CPUs. */
  cpus: number;
}

/** The kernel's text around event bodies: line prefixes, the header, loss markers. */
export class KernelText {
  readonly #renderer: EventRenderer;
  readonly #tasks: TaskNames;
  readonly #ns: boolean;
  readonly #tgid: boolean;
  readonly #irqInfo: boolean;
  readonly #context: boolean;
  readonly #verbose: boolean;
  readonly #le: boolean;
  readonly #prefix: PrefixWriter;
  readonly #scratch = new TextOut(4096);

  constructor(renderer: EventRenderer, options: KernelTextOptions) {
    this.#renderer = renderer;
    this.#tasks = options.tasks;
    this.#ns = clockInNs(options.clock);
    this.#tgid = options.recordTgid ?? false;
    this.#irqInfo = options.irqInfo ?? true;
    this.#context = options.contextInfo ?? true;
    this.#verbose = options.verbose ?? false;
    this.#le = options.littleEndian ?? true;
    this.#prefix = new PrefixWriter(this.#tasks);
  }

  /** Event `i` of `batch`, with the newline the kernel ends it with. */
  line(batch: RecordBatch, i: number): string {
    const out = this.#scratch;
    out.reset();
    this.writeLine(out, batch, i);
    return out.toString();
  }

  /** line() as UTF-8 bytes appended to `out`. */
  writeLine(out: TextOut, batch: RecordBatch, i: number): void {
    const view = batch.view;
    const off = batch.offset(i);
    const renderer = this.#renderer;
    if (this.#context) {
      const prefix = this.#prefix;
      const pid = view.getInt32(off + 4, this.#le);
      prefix.task(out, pid);
      if (this.#tgid) prefix.tgid(out, pid);
      prefix.cpu(out, batch.cpu);
      if (this.#irqInfo) prefix.flags(out, view.getUint8(off + 2), view.getUint8(off + 3));
      const hi = batch.tsHi(i);
      const lo = batch.tsLo(i);
      if (this.#ns) prefix.nsTimestamp(out, hi, lo);
      else prefix.rawTimestamp(out, hi, lo);
      out.reserve(2);
      out.buf[out.pos] = 58; // ': '
      out.buf[out.pos + 1] = 32;
      out.pos += 2;
    }
    renderer.writeText(view, batch.bytes, off, batch.length(i), out);
    if (renderer.endsLine) out.byte(10);
  }

  /** The `trace` file's annotation before a CPU's first event once buffers overran. */
  cpuStarted(cpu: number): string {
    return `##### CPU ${cpu} buffer started ####\n`;
  }

  /** trace_pipe's marker before the first event after a loss (-1: count unknown). */
  lost(cpu: number, count: number): string {
    return count < 0 ? `CPU:${cpu} [LOST EVENTS]\n` : `CPU:${cpu} [LOST ${count} EVENTS]\n`;
  }

  /**
   * The `trace` file's header for the nop tracer (trace_default_header():
   * print_func_help_header[_irq], nothing with context-info off or verbose on).
   */
  header(figures: HeaderFigures): string {
    let s = '# tracer: nop\n#\n';
    if (!this.#context || this.#verbose) return s;
    s += `# entries-in-buffer/entries-written: ${figures.entriesInBuffer}/${figures.entriesWritten}   #P:${figures.cpus}\n#\n`;
    const tgid = this.#tgid;
    if (this.#irqInfo) {
      const pad = tgid ? '            ' : '  ';
      s += `#                            ${pad}  _-----=> irqs-off/BH-disabled\n`;
      s += `#                            ${pad} / _----=> need-resched\n`;
      s += `#                            ${pad}| / _---=> hardirq/softirq\n`;
      s += `#                            ${pad}|| / _--=> preempt-depth\n`;
      s += `#                            ${pad}||| / _-=> migrate-disable\n`;
      s += `#                            ${pad}|||| /     delay\n`;
      s += `#           TASK-PID  ${tgid ? '     TGID   ' : '  '} CPU#  |||||  TIMESTAMP  FUNCTION\n`;
      s += `#              | |    ${tgid ? '       |    ' : '  '}   |   |||||     |         |\n`;
    } else {
      s += `#           TASK-PID    ${tgid ? '   TGID   ' : ''} CPU#     TIMESTAMP  FUNCTION\n`;
      s += `#              | |      ${tgid ? '     |    ' : ''}   |         |         |\n`;
    }
    return s;
  }
}
