// Messages between the output thread and the capture thread.

import type { BufferAdvice, CapturePath, PolicyConfig, PolicyDecision } from './adaptive-policy.js';
import type { CpuReaderCounters } from '../consumer/counters.js';
import type { TraceringWarning } from '../errors.js';
import type { ReaderMode } from '../kernel/cpu-reader.js';
import type { ModeChoice } from '../kernel/trace-source.js';
import type { StagingGeometry, StagingPolicy } from './staging-ring.js';

export interface CaptureConfig {
  /** The trace array's directory and instance name (null: the top level). */
  arrayPath: string;
  arrayName: string | null;
  mode: ModeChoice;
  cpus?: readonly number[];
  checkConsumers: boolean;
  flushIntervalMs: number;
  quietWakeDelayMs: number;
  /** `--mode auto`: policy settings other than the defaults (tests, tuning). */
  policy?: Partial<PolicyConfig>;
  /** `--mode auto`: the path CPUs start on (AdaptiveCaptureOptions.startPath). */
  startPath?: CapturePath;
  /** Join partly filled sub-buffers for up to this long before staging them (0: stage each as read). */
  coalesceMs: number;
  /** false: every page through the batch path, none staged by native code (CaptureOptions.directStaging). */
  directStaging?: boolean;
  staging: { memory: SharedArrayBuffer; geometry: StagingGeometry; policy: StagingPolicy } | null;
}

export interface ReaderInfo {
  cpu: number;
  mode: ReaderMode;
  subbufSize: number;
  /** Sub-buffers in the kernel's ring (mapped readers know it; read() readers estimate). */
  nrSubbufs: number;
}

export interface CpuCounters {
  cpu: number;
  counters: CpuReaderCounters;
}

export type FromCapture =
  /** tid: the capture thread's Linux thread id (the output side lowers every other thread's priority by it). */
  | { type: 'opened'; readers: ReaderInfo[]; missingCpus: number[]; tid: number }
  | { type: 'warning'; warning: TraceringWarning }
  | { type: 'progress'; cpus: CpuCounters[]; wakeups: number; modes: ReaderMode[]; decisions: PolicyDecision[] }
  | { type: 'done'; cpus: CpuCounters[]; wakeups: number; modes: ReaderMode[]; decisions: PolicyDecision[]; advice: BufferAdvice | null }
  | { type: 'failed'; error: { name: string; code: string | null; message: string; stack: string | null } };

export type ToCapture = { type: 'stop' } | { type: 'hard-stop' };
