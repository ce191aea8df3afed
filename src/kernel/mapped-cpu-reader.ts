// Zero-copy consumer of one kernel per-CPU buffer through the tracefs
// mapping (Linux 6.10+): maps the meta page, learns meta_page_size /
// subbuf_size / nr_subbufs, maps everything, and hands the mapping and the
// GET_READER ioctl to the generic MappedConsumer (src/consumer/).

import fs from 'node:fs';
import { release } from 'node:os';
import { type MappedChannel, MappedConsumer, type MappedConsumerOptions } from '../consumer/mapped-consumer.js';
import {
  CpuBufferMissingError,
  MmapUnsupportedError,
  TracefsBusyError,
  TracefsPermissionError,
  isSystemError,
} from '../errors.js';
import { MetaPage, type MetaSnapshot, TRACE_IOCTL_WAKE_WAITERS, TRACE_MMAP_IOCTL_GET_READER, checkMetaGeometry } from '../layout/meta-page.js';
import type { RecordBatch } from '../layout/record.js';
import { native } from '../native.js';
import type { CpuReader } from './cpu-reader.js';
import { rethrowFs } from './fs-errors.js';
import type { TraceArray } from './trace-array.js';
import { openTracePipeRaw } from './trace-pipe-raw.js';

export type MappedReaderOptions = Omit<MappedConsumerOptions, 'pageSize'>;

/** Maps `length` bytes of the buffer, translating the kernel's refusals. */
function mapBuffer(fd: number, length: number, array: TraceArray, cpu: number): ArrayBuffer {
  try {
    return native.mmap(fd, length, 0);
  } catch (error) {
    if (!isSystemError(error)) throw error;
    const where = `CPU ${cpu} of the ${array.label}`;
    switch (error.code) {
      case 'ENODEV':
        throw new MmapUnsupportedError(
          `${where} cannot be memory-mapped: Linux ${release()} lacks tracefs mmap (6.10+) ` +
            'or the buffer is a persistent one; use read mode',
          { cause: error },
        );
      case 'EINVAL':
        throw new CpuBufferMissingError(cpu, `${where} has no ring buffer (the CPU was never online)`, { cause: error });
      case 'EBUSY':
        throw new TracefsBusyError(`${where} cannot be mapped while a snapshot buffer is armed`, { cause: error });
      case 'EPERM':
      case 'EACCES':
        throw new TracefsPermissionError(`mapping ${where}: ${error.code}`, { cause: error });
      default:
        throw error;
    }
  }
}

/**
 * The meta page of CPU `cpu`, read through a short-lived mapping without
 * consuming anything or taking the reader lock. If no one else maps the
 * buffer, mapping it makes the kernel publish fresh figures; otherwise they
 * are as of the other mapper's last GET_READER.
 */
export function peekMetaPage(array: TraceArray, cpu: number): MetaSnapshot {
  const path = array.cpuFile(cpu, 'trace_pipe_raw');
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    rethrowFs(error, path, 'open');
  }
  try {
    const head = mapBuffer(fd, native.pageSize, array, cpu);
    try {
      const meta = new MetaPage(new DataView(head));
      checkMetaGeometry(meta, native.pageSize);
      return meta.snapshot();
    } finally {
      native.munmap(head);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A CPU's kernel buffer read through the ring-buffer mapping (meta page, GET_READER). */
export class MappedCpuReader extends MappedConsumer implements CpuReader {
  readonly mode = 'mmap' as const;
  readonly fd: number;
  /** Records are walked in place in the mapping: nothing is held back. */
  readonly buffered = 0;
  readonly #mapping: ArrayBuffer;
  #closed = false;

  private constructor(channel: KernelChannel, cpu: number, options: MappedReaderOptions) {
    super(channel, cpu, { ...options, pageSize: native.pageSize });
    this.fd = channel.fd;
    this.#mapping = channel.memory;
  }

  /** Opens and maps CPU `cpu` of `array`. */
  static open(array: TraceArray, cpu: number, options: MappedReaderOptions = {}): MappedCpuReader {
    const fd = openTracePipeRaw(array, cpu);
    try {
      // Map the first page to learn the geometry, then everything while the
      // first mapping pins it (sizes and ids cannot change in between).
      const head = mapBuffer(fd, native.pageSize, array, cpu);
      let full: ArrayBuffer;
      try {
        const probe = new MetaPage(new DataView(head));
        checkMetaGeometry(probe, native.pageSize);
        full = mapBuffer(fd, probe.metaPageSize + probe.nrSubbufs * probe.subbufSize, array, cpu);
      } finally {
        native.munmap(head);
      }
      try {
        return new MappedCpuReader(new KernelChannel(array, cpu, fd, full), cpu, options);
      } catch (error) {
        native.munmap(full);
        throw error;
      }
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  override next(): RecordBatch | null {
    return this.#closed ? null : super.next();
  }

  override finish(): void {
    if (!this.#closed) super.finish();
  }

  /** Wakes anything blocked on this CPU buffer (blocking GET_READER, poll). */
  wakeWaiters(): void {
    native.ioctl(this.fd, TRACE_IOCTL_WAKE_WAITERS);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      native.munmap(this.#mapping);
    } finally {
      fs.closeSync(this.fd);
    }
  }
}

/** GET_READER is the kernel's ioctl; dropped events come from per_cpu stats. */
class KernelChannel implements MappedChannel {
  readonly label: string;
  readonly memory: ArrayBuffer;
  readonly fd: number;
  readonly #array: TraceArray;
  readonly #cpu: number;

  constructor(array: TraceArray, cpu: number, fd: number, memory: ArrayBuffer) {
    this.label = `CPU ${cpu} of the ${array.label}`;
    this.memory = memory;
    this.fd = fd;
    this.#array = array;
    this.#cpu = cpu;
  }

  getReader(): void {
    try {
      native.ioctl(this.fd, TRACE_MMAP_IOCTL_GET_READER);
    } catch (error) {
      if (isSystemError(error, 'ENODEV')) {
        throw new CpuBufferMissingError(this.#cpu, `${this.label}: GET_READER found no mapping`, { cause: error });
      }
      throw error;
    }
  }

  dropped(): number | null {
    try {
      return this.#array.cpuStats(this.#cpu).droppedEvents;
    } catch {
      return null; // stats unreadable (instance going away)
    }
  }
}
