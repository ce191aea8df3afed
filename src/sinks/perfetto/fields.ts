// Field numbers of the Perfetto trace format that this sink writes, from
// google/perfetto's protos/perfetto/{trace,common}/ (the project's own subset
// is proto/perfetto-subset.proto; tests decode our output against it).

export const Trace = { packet: 1 } as const;

export const TracePacket = {
  ftraceEvents: 1,
  processTree: 2,
  clockSnapshot: 6,
  timestamp: 8,
  trustedPacketSequenceId: 10,
  trackEvent: 11,
  internedData: 12,
  sequenceFlags: 13,
  ftraceStats: 34,
  traceStats: 35,
  previousPacketDropped: 42,
  systemInfo: 45,
  timestampClockId: 58,
  trackDescriptor: 60,
  firstPacketOnSequence: 87,
} as const;

export const SEQ_INCREMENTAL_STATE_CLEARED = 1;
export const SEQ_NEEDS_INCREMENTAL_STATE = 2;

export const FtraceEventBundle = {
  cpu: 1,
  event: 2,
  lostEvents: 3,
  compactSched: 4,
  ftraceClock: 5,
  ftraceTimestamp: 6,
  bootTimestamp: 7,
} as const;

/** FtraceClock enum. */
export const FtraceClock = { unspecified: 0, unknown: 1, global: 2, local: 3, monoRaw: 4 } as const;

export const CompactSched = {
  switchTimestamp: 1,
  switchPrevState: 2,
  switchNextPid: 3,
  switchNextPrio: 4,
  internTable: 5,
  switchNextCommIndex: 6,
  wakingTimestamp: 7,
  wakingPid: 8,
  wakingTargetCpu: 9,
  wakingPrio: 10,
  wakingCommIndex: 11,
  wakingCommonFlags: 12,
} as const;

export const FtraceEvent = { timestamp: 1, pid: 2, print: 3, generic: 327 } as const;

export const GenericFtraceEvent = { eventName: 1, field: 2 } as const;
export const GenericField = { name: 1, strValue: 3, intValue: 4, uintValue: 5 } as const;

export const FtraceStats = { phase: 1, cpuStats: 2 } as const;
export const FtraceStatsPhase = { startOfTrace: 1, endOfTrace: 2 } as const;
export const FtraceCpuStats = {
  cpu: 1,
  entries: 2,
  overrun: 3,
  commitOverrun: 4,
  bytesRead: 5,
  oldestEventTs: 6,
  nowTs: 7,
  droppedEvents: 8,
  readEvents: 9,
} as const;

export const TraceStats = { bufferStats: 1, writerStats: 18 } as const;
export const BufferStats = { traceWriterPacketLoss: 19 } as const;
export const WriterStats = { sequenceId: 1, buffer: 4 } as const;

export const ProcessTree = { processes: 1, threads: 2, collectionEndTimestamp: 3 } as const;
export const ProcessTreeProcess = { pid: 1, ppid: 2, cmdline: 3, cmdlineIsComm: 9 } as const;
export const ProcessTreeThread = { tid: 1, name: 2, tgid: 3 } as const;

export const ClockSnapshot = { clocks: 1, primaryTraceClock: 2 } as const;
export const ClockSnapshotClock = { clockId: 1, timestamp: 2 } as const;
/** BuiltinClock ids. */
export const BuiltinClock = { realtime: 1, monotonic: 3, monotonicRaw: 5, boottime: 6 } as const;

export const SystemInfo = { utsname: 1, pageSize: 6, numCpus: 8 } as const;
export const Utsname = { sysname: 1, version: 2, release: 3, machine: 4 } as const;

export const TrackDescriptor = { uuid: 1, name: 2, process: 3, thread: 4, parentUuid: 5, counter: 8 } as const;
export const ProcessDescriptor = { pid: 1, processName: 6 } as const;
export const ThreadDescriptor = { pid: 1, tid: 2, threadName: 5 } as const;
export const CounterDescriptor = { unit: 3 } as const;

export const TrackEvent = {
  debugAnnotations: 4,
  type: 9,
  nameIid: 10,
  trackUuid: 11,
  name: 23,
  counterValue: 30,
  doubleCounterValue: 44,
} as const;
export const TrackEventType = { sliceBegin: 1, sliceEnd: 2, instant: 3, counter: 4 } as const;

export const DebugAnnotation = {
  nameIid: 1,
  boolValue: 2,
  uintValue: 3,
  intValue: 4,
  doubleValue: 5,
  stringValue: 6,
} as const;

export const InternedData = { eventNames: 2, debugAnnotationNames: 3 } as const;
export const InternedString = { iid: 1, name: 2 } as const;

// Per-event messages inside FtraceEvent: [FtraceEvent field, {message field: number}].
export const SchedSwitch = { prevComm: 1, prevPid: 2, prevPrio: 3, prevState: 4, nextComm: 5, nextPid: 6, nextPrio: 7 } as const;
export const SchedWakeup = { comm: 1, pid: 2, prio: 3, success: 4, targetCpu: 5 } as const;
