// Application ring events as Perfetto TrackEvents, on one packet sequence
// per ring: a track per (ring, writer thread), described with the thread and
// its process so the UI shows it under that process, beside the kernel's
// scheduling of the same thread.
//
//   tracering/slice_begin, slice_end → TYPE_SLICE_BEGIN / TYPE_SLICE_END
//   tracering/instant                → TYPE_INSTANT
//   tracering/counter(_double)       → TYPE_COUNTER on a counter track per name
//   any other ring event             → TYPE_INSTANT named after the event,
//                                      its fields as debug annotations
//
// Names (events, annotations) are interned per sequence. Timestamps stay
// CLOCK_MONOTONIC (timestamp_clock_id 3); a ClockSnapshot maps them to boot.
// After a ring loss the next packet says previous_packet_dropped and starts
// the interning over (SEQ_INCREMENTAL_STATE_CLEARED).

import { EventDecoder, type StringAccessor } from '../../decode/field-decoder.js';
import type { EventFormat } from '../../decode/format-file.js';
import { EventRegistry } from '../../decode/registry.js';
import type { RecordBatch } from '../../layout/record.js';
import { TRACE_API_EVENTS, TRACE_API_SYSTEM } from '../../ring/trace-api.js';
import type { RingInput } from '../sink.js';
import {
  BuiltinClock,
  DebugAnnotation,
  InternedData,
  InternedString,
  ProcessDescriptor,
  SEQ_INCREMENTAL_STATE_CLEARED,
  SEQ_NEEDS_INCREMENTAL_STATE,
  ThreadDescriptor,
  TrackDescriptor,
  TrackEvent,
  TrackEventType,
  TracePacket,
} from './fields.js';
import { arrayText } from './ftrace-events.js';
import type { TaskTable } from './process-tree.js';
import type { ProtoWriter } from './proto-writer.js';

const PROCESS_UUID_BASE = 2 ** 44;
const THREAD_UUID_BASE = 2 ** 45;
const COUNTER_UUID_BASE = 2 ** 46;
const TWO32 = 4294967296;

const K_BEGIN = 0;
const K_END = 1;
const K_INSTANT = 2;
const K_COUNTER = 3;
const K_COUNTER_DOUBLE = 4;
const K_APP = 5;
const K_UNKNOWN = 6;

interface RingEventPlan {
  readonly kind: number;
  readonly format: EventFormat | null;
  readonly decoder: EventDecoder | null;
  readonly name: StringAccessor | null;
  readonly value: StringAccessor | null;
}

/** Tracks, processes and counters described so far, shared by every ring of the trace. */
export class TrackRegistry {
  readonly processes = new Set<number>();
  #counters = 0;

  nextCounterUuid(): number {
    return COUNTER_UUID_BASE + this.#counters++;
  }
}

export class RingTrackWriter {
  readonly ring: RingInput;
  readonly sequenceId: number;
  /** Events written, and losses the cursor reported. */
  events = 0;
  lost = 0;
  readonly #index: number;
  readonly #registry: EventRegistry;
  readonly #tasks: TaskTable;
  readonly #tracks: TrackRegistry;
  readonly #plans = new Map<number, RingEventPlan>();
  readonly #threads = new Set<number>();
  readonly #counters = new Map<string, number>();
  readonly #eventNames = new Map<string, number>();
  readonly #annotationNames = new Map<string, number>();
  #generation = -1;
  /** The next packet starts the sequence's incremental state (first packet, or after a loss). */
  #cleared = true;
  #dropped = false;
  // Names first used by the packet being written.
  #newEventNames: Array<[number, string]> = [];
  #newAnnotationNames: Array<[number, string]> = [];

  constructor(ring: RingInput, index: number, sequenceId: number, tasks: TaskTable, tracks: TrackRegistry) {
    this.ring = ring;
    this.#index = index;
    this.sequenceId = sequenceId;
    this.#registry = new EventRegistry(ring.formats);
    this.#tasks = tasks;
    this.#tracks = tracks;
  }

  #plan(id: number): RingEventPlan {
    if (this.#generation !== this.#registry.generation) {
      this.#plans.clear();
      this.#generation = this.#registry.generation;
    }
    let p = this.#plans.get(id);
    if (p !== undefined) return p;
    const found = this.#registry.lookup(id);
    if (found.status !== 'ok') {
      p = { kind: K_UNKNOWN, format: null, decoder: null, name: null, value: null };
    } else {
      const f = found.format;
      const decoder = new EventDecoder(f);
      let kind = K_APP;
      if (f.system === TRACE_API_SYSTEM && f.byName.has('name')) {
        if (f.name === TRACE_API_EVENTS.begin) kind = K_BEGIN;
        else if (f.name === TRACE_API_EVENTS.end) kind = K_END;
        else if (f.name === TRACE_API_EVENTS.instant) kind = K_INSTANT;
        else if (f.name === TRACE_API_EVENTS.counter && f.byName.get('value')?.size === 8) kind = K_COUNTER;
        else if (f.name === TRACE_API_EVENTS.counterDouble && f.byName.get('value')?.isString) kind = K_COUNTER_DOUBLE;
      }
      p = {
        kind,
        format: f,
        decoder,
        name: kind !== K_APP ? decoder.string('name') : null,
        value: kind === K_COUNTER_DOUBLE ? decoder.string('value') : null,
      };
    }
    this.#plans.set(id, p);
    return p;
  }

  #pidOf(tid: number): number {
    const known = this.#tasks.tgidOf(tid);
    if (known !== 0) return known;
    if (tid === this.ring.writerTid && this.ring.writerPid !== 0) return this.ring.writerPid;
    return this.ring.writerPid !== 0 ? this.ring.writerPid : tid;
  }

  #threadUuid(tid: number): number {
    return THREAD_UUID_BASE + this.#index * TWO32 + tid;
  }

  /** TrackDescriptors of the thread (and its process) the first time they are used. */
  #describeThread(w: ProtoWriter, tid: number): void {
    if (this.#threads.has(tid)) return;
    this.#threads.add(tid);
    const pid = this.#pidOf(tid);
    if (!this.#tracks.processes.has(pid)) {
      this.#tracks.processes.add(pid);
      const packet = w.begin(1);
      const d = w.begin(TracePacket.trackDescriptor);
      w.int(TrackDescriptor.uuid, PROCESS_UUID_BASE + pid);
      const pm = w.beginShort(TrackDescriptor.process);
      w.int(ProcessDescriptor.pid, pid);
      const pname = this.#tasks.processName(pid);
      if (pname !== '') w.string(ProcessDescriptor.processName, pname);
      w.endShort(pm);
      w.end(d);
      w.int(TracePacket.trustedPacketSequenceId, this.sequenceId);
      w.end(packet);
    }
    const packet = w.begin(1);
    const d = w.begin(TracePacket.trackDescriptor);
    w.int(TrackDescriptor.uuid, this.#threadUuid(tid));
    w.int(TrackDescriptor.parentUuid, PROCESS_UUID_BASE + pid);
    w.string(TrackDescriptor.name, this.ring.name);
    const tm = w.beginShort(TrackDescriptor.thread);
    w.int(ThreadDescriptor.pid, pid);
    w.int(ThreadDescriptor.tid, tid);
    const tname = this.#tasks.threads.get(tid)?.name ?? '';
    if (tname !== '') w.string(ThreadDescriptor.threadName, tname);
    w.endShort(tm);
    w.end(d);
    w.int(TracePacket.trustedPacketSequenceId, this.sequenceId);
    w.end(packet);
  }

  #counterUuid(w: ProtoWriter, tid: number, name: string): number {
    const key = `${tid}\0${name}`;
    let uuid = this.#counters.get(key);
    if (uuid !== undefined) return uuid;
    uuid = this.#tracks.nextCounterUuid();
    this.#counters.set(key, uuid);
    const packet = w.begin(1);
    const d = w.begin(TracePacket.trackDescriptor);
    w.int(TrackDescriptor.uuid, uuid);
    w.int(TrackDescriptor.parentUuid, this.#threadUuid(tid));
    w.string(TrackDescriptor.name, name);
    const c = w.beginShort(TrackDescriptor.counter);
    w.endShort(c);
    w.end(d);
    w.int(TracePacket.trustedPacketSequenceId, this.sequenceId);
    w.end(packet);
    return uuid;
  }

  #iid(table: Map<string, number>, fresh: Array<[number, string]>, name: string): number {
    let iid = table.get(name);
    if (iid === undefined) {
      iid = table.size + 1;
      table.set(name, iid);
      fresh.push([iid, name]);
    }
    return iid;
  }

  /** Writes every record of a batch of this ring. */
  addBatch(batch: RecordBatch, w: ProtoWriter): void {
    if (batch.lostBefore !== 0) {
      if (batch.lostBefore > 0) this.lost += batch.lostBefore;
      this.#dropped = true;
      this.#cleared = true;
    }
    const view = batch.view;
    const bytes = batch.bytes;
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offset(i);
      const len = batch.length(i);
      if (len < 8) continue;
      const plan = this.#plan(view.getUint16(off, true));
      const tid = view.getInt32(off + 4, true);
      this.#describeThread(w, tid);
      let counterUuid = 0;
      let name = '';
      if (plan.kind !== K_APP && plan.kind !== K_UNKNOWN) name = plan.name!.get(view, bytes, off, len);
      if (plan.kind === K_COUNTER || plan.kind === K_COUNTER_DOUBLE) counterUuid = this.#counterUuid(w, tid, name);
      if (this.#cleared) {
        this.#eventNames.clear();
        this.#annotationNames.clear();
      }
      this.#writeEvent(w, batch, i, plan, tid, name, counterUuid, view, bytes, off, len);
      this.events++;
    }
  }

  #writeEvent(
    w: ProtoWriter,
    batch: RecordBatch,
    i: number,
    plan: RingEventPlan,
    tid: number,
    name: string,
    counterUuid: number,
    view: DataView,
    bytes: Uint8Array,
    off: number,
    len: number,
  ): void {
    this.#newEventNames = [];
    this.#newAnnotationNames = [];
    // The event first (into a scratch position of w), the packet's interned data after it is known.
    const packet = w.begin(1);
    w.int64(TracePacket.timestamp, batch.tsHi(i), batch.tsLo(i));
    w.int(TracePacket.timestampClockId, BuiltinClock.monotonic);
    w.int(TracePacket.trustedPacketSequenceId, this.sequenceId);
    w.int(TracePacket.sequenceFlags, this.#cleared ? SEQ_INCREMENTAL_STATE_CLEARED | SEQ_NEEDS_INCREMENTAL_STATE : SEQ_NEEDS_INCREMENTAL_STATE);
    if (this.#dropped) w.bool(TracePacket.previousPacketDropped, true);
    this.#cleared = false;
    this.#dropped = false;
    const ev = w.begin(TracePacket.trackEvent);
    switch (plan.kind) {
      case K_BEGIN:
        w.int(TrackEvent.type, TrackEventType.sliceBegin);
        w.int(TrackEvent.trackUuid, this.#threadUuid(tid));
        w.int(TrackEvent.nameIid, this.#iid(this.#eventNames, this.#newEventNames, name));
        break;
      case K_END:
        w.int(TrackEvent.type, TrackEventType.sliceEnd);
        w.int(TrackEvent.trackUuid, this.#threadUuid(tid));
        break;
      case K_INSTANT:
        w.int(TrackEvent.type, TrackEventType.instant);
        w.int(TrackEvent.trackUuid, this.#threadUuid(tid));
        w.int(TrackEvent.nameIid, this.#iid(this.#eventNames, this.#newEventNames, name));
        break;
      case K_COUNTER: {
        w.int(TrackEvent.type, TrackEventType.counter);
        w.int(TrackEvent.trackUuid, counterUuid);
        const v = plan.format!.byName.get('value')!;
        const at = off + v.offset;
        w.int64(TrackEvent.counterValue, view.getUint32(at + 4, true), view.getUint32(at, true));
        break;
      }
      case K_COUNTER_DOUBLE:
        w.int(TrackEvent.type, TrackEventType.counter);
        w.int(TrackEvent.trackUuid, counterUuid);
        w.double(TrackEvent.doubleCounterValue, Number(plan.value!.get(view, bytes, off, len)));
        break;
      default: {
        w.int(TrackEvent.type, TrackEventType.instant);
        w.int(TrackEvent.trackUuid, this.#threadUuid(tid));
        const label = plan.format === null ? `unknown_event_${view.getUint16(off, true)}` : plan.format.name;
        w.int(TrackEvent.nameIid, this.#iid(this.#eventNames, this.#newEventNames, label));
        if (plan.format !== null) this.#annotations(w, plan, view, bytes, off, len);
      }
    }
    w.end(ev);
    if (this.#newEventNames.length > 0 || this.#newAnnotationNames.length > 0) {
      const d = w.begin(TracePacket.internedData);
      for (const [iid, s] of this.#newEventNames) internedString(w, InternedData.eventNames, iid, s);
      for (const [iid, s] of this.#newAnnotationNames) internedString(w, InternedData.debugAnnotationNames, iid, s);
      w.end(d);
    }
    w.end(packet);
  }

  #annotations(w: ProtoWriter, plan: RingEventPlan, view: DataView, bytes: Uint8Array, off: number, len: number): void {
    for (const f of plan.format!.fields) {
      if (f.common) continue;
      const v = plan.decoder!.value(f, view, bytes, off, len);
      if (v === undefined) continue;
      const m = w.beginShort(TrackEvent.debugAnnotations);
      w.int(DebugAnnotation.nameIid, this.#iid(this.#annotationNames, this.#newAnnotationNames, f.name));
      if (typeof v === 'number') {
        if (v < 0) w.int(DebugAnnotation.intValue, v);
        else w.int(DebugAnnotation.uintValue, v);
      } else if (typeof v === 'bigint') {
        const u = BigInt.asUintN(64, v);
        w.int64(v < 0n ? DebugAnnotation.intValue : DebugAnnotation.uintValue, Number(u >> 32n), Number(u & 0xffffffffn));
      } else if (typeof v === 'string') {
        w.string(DebugAnnotation.stringValue, v);
      } else {
        w.string(DebugAnnotation.stringValue, arrayText(v));
      }
      w.endShort(m);
    }
  }
}

function internedString(w: ProtoWriter, field: number, iid: number, s: string): void {
  const m = w.beginShort(field);
  w.int(InternedString.iid, iid);
  w.string(InternedString.name, s);
  w.endShort(m);
}

/** A ClockSnapshot packet: BOOTTIME and MONOTONIC at one instant. */
export function writeClockSnapshot(w: ProtoWriter, bootNs: bigint, monoNs: bigint, sequenceId: number): void {
  const packet = w.begin(1);
  const s = w.begin(TracePacket.clockSnapshot);
  for (const [id, ns] of [
    [BuiltinClock.boottime, bootNs],
    [BuiltinClock.monotonic, monoNs],
  ] as const) {
    const c = w.beginShort(1);
    w.int(1, id);
    const u = BigInt.asUintN(64, ns);
    w.int64(2, Number(u >> 32n), Number(u & 0xffffffffn));
    w.endShort(c);
  }
  w.end(s);
  w.int(TracePacket.trustedPacketSequenceId, sequenceId);
  w.end(packet);
}
