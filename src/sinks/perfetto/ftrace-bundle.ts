// One CPU's kernel events as FtraceEventBundle packets, streamed: a bundle
// is closed and handed to the output every `eventsPerBundle` events, and
// when a sub-buffer after a loss starts (the next bundle carries
// lost_events), so memory stays flat whatever the trace's length.
//
// sched_switch and sched_waking go into the bundle's compact_sched arrays
// (structure of arrays, timestamps delta-coded from 0 in each bundle, comms
// through a per-bundle intern table); every other event is an FtraceEvent
// with its timestamp, pid and payload (ftrace-events.ts).

import type { EventRegistry } from '../../decode/registry.js';
import { FixedStringCache } from '../../decode/strings.js';
import type { RecordBatch } from '../../layout/record.js';
import type { ClockPlan } from './clocks.js';
import { CompactSched, FtraceEvent, FtraceEventBundle, TracePacket } from './fields.js';
import { ENCODE_COMPACT_SWITCH, ENCODE_COMPACT_WAKING, ENCODE_UNKNOWN, EventEncoder, varintLen, varintLen64 } from './ftrace-events.js';
import { ProtoWriter } from './proto-writer.js';

const TWO32 = 4294967296;

/** Encoders by event id, built on first sight (a registry reload invalidates them). */
export class EncoderTable {
  readonly #registry: EventRegistry;
  readonly #le: boolean;
  readonly #compactSched: boolean;
  readonly #byId: Array<EventEncoder | undefined> = new Array<EventEncoder | undefined>(65536);
  readonly #unknown: EventEncoder;
  #generation = -1;

  constructor(registry: EventRegistry, le: boolean, compactSched: boolean) {
    this.#registry = registry;
    this.#le = le;
    this.#compactSched = compactSched;
    this.#unknown = EventEncoder.unknown(le);
  }

  get(id: number): EventEncoder {
    if (id < 0 || id > 0xffff) return this.#unknown;
    if (this.#generation !== this.#registry.generation) {
      this.#byId.fill(undefined);
      this.#generation = this.#registry.generation;
    }
    let e = this.#byId[id];
    if (e === undefined) {
      const found = this.#registry.lookup(id);
      e = found.status === 'ok' ? EventEncoder.forFormat(found.format, this.#le, { compactSched: this.#compactSched }) : this.#unknown;
      this.#byId[id] = e;
    }
    return e;
  }
}

export interface BundleOptions {
  eventsPerBundle: number;
  clock: ClockPlan;
  littleEndian: boolean;
  sequenceId: number;
}

/** Splits a bigint (two's complement, 64 bits) into unsigned words. */
function words(v: bigint): [hi: number, lo: number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

export class CpuBundleWriter {
  readonly cpu: number;
  /** Events written (compact ones included), and those of each kind. */
  events = 0;
  compactSwitches = 0;
  compactWakings = 0;
  /** Bundles flagged lost_events. */
  lossBundles = 0;
  readonly #w = new ProtoWriter(1 << 18);
  readonly #out: (bytes: Uint8Array) => void;
  readonly #n: number;
  readonly #le: boolean;
  readonly #seq: number;
  readonly #clockEnum: number | null;
  readonly #pairTrace: [number, number];
  readonly #pairBoot: [number, number];
  readonly #offHi: number;
  readonly #offLo: number;
  readonly #shift: boolean;
  #open = false;
  #packetMark = 0;
  #bundleMark = 0;
  #inBundle = 0;
  #lostPending = false;
  // compact_sched columns of the open bundle
  readonly #swTsHi: Uint32Array;
  readonly #swTsLo: Uint32Array;
  readonly #swStateHi: Uint32Array;
  readonly #swStateLo: Uint32Array;
  readonly #swPid: Int32Array;
  readonly #swPrio: Int32Array;
  readonly #swComm: Int32Array;
  #sw = 0;
  readonly #wkTsHi: Uint32Array;
  readonly #wkTsLo: Uint32Array;
  readonly #wkPid: Int32Array;
  readonly #wkCpu: Int32Array;
  readonly #wkPrio: Int32Array;
  readonly #wkComm: Int32Array;
  readonly #wkFlags: Int32Array;
  #wk = 0;
  readonly #intern = new Map<string, number>();
  readonly #internList: string[] = [];
  readonly #comms = new FixedStringCache();

  constructor(cpu: number, options: BundleOptions, out: (bytes: Uint8Array) => void) {
    this.cpu = cpu;
    this.#out = out;
    this.#n = Math.max(1, options.eventsPerBundle);
    this.#le = options.littleEndian;
    this.#seq = options.sequenceId;
    const plan = options.clock;
    this.#clockEnum = plan.ftraceClock;
    this.#pairTrace = words(plan.pair?.traceNs ?? 0n);
    this.#pairBoot = words(plan.pair?.bootNs ?? 0n);
    [this.#offHi, this.#offLo] = words(plan.offsetNs);
    this.#shift = plan.offsetNs !== 0n;
    const n = this.#n;
    this.#swTsHi = new Uint32Array(n);
    this.#swTsLo = new Uint32Array(n);
    this.#swStateHi = new Uint32Array(n);
    this.#swStateLo = new Uint32Array(n);
    this.#swPid = new Int32Array(n);
    this.#swPrio = new Int32Array(n);
    this.#swComm = new Int32Array(n);
    this.#wkTsHi = new Uint32Array(n);
    this.#wkTsLo = new Uint32Array(n);
    this.#wkPid = new Int32Array(n);
    this.#wkCpu = new Int32Array(n);
    this.#wkPrio = new Int32Array(n);
    this.#wkComm = new Int32Array(n);
    this.#wkFlags = new Int32Array(n);
  }

  /** The next bundle says that events were lost before it. */
  markLost(): void {
    if (this.#inBundle > 0) this.flush();
    this.#lostPending = true;
  }

  #start(): void {
    const w = this.#w;
    this.#packetMark = w.begin(1);
    w.int(TracePacket.trustedPacketSequenceId, this.#seq);
    this.#bundleMark = w.begin(TracePacket.ftraceEvents);
    w.int(FtraceEventBundle.cpu, this.cpu);
    if (this.#lostPending) {
      w.bool(FtraceEventBundle.lostEvents, true);
      this.#lostPending = false;
      this.lossBundles++;
    }
    if (this.#clockEnum !== null) {
      w.int(FtraceEventBundle.ftraceClock, this.#clockEnum);
      w.int64(FtraceEventBundle.ftraceTimestamp, this.#pairTrace[0], this.#pairTrace[1]);
      w.int64(FtraceEventBundle.bootTimestamp, this.#pairBoot[0], this.#pairBoot[1]);
    }
    this.#open = true;
  }

  #commIndex(view: DataView, bytes: Uint8Array, at: number, size: number): number {
    const s = FixedStringCache.fits(size) ? this.#comms.get(view, bytes, at, size) : decodeFixed(bytes, at, size);
    let i = this.#intern.get(s);
    if (i === undefined) {
      i = this.#internList.length;
      this.#internList.push(s);
      this.#intern.set(s, i);
    }
    return i;
  }

  /** Encodes every record of `batch` (a batch of this CPU). */
  addBatch(batch: RecordBatch, encoders: EncoderTable): void {
    if (batch.lostBefore !== 0) this.markLost();
    const rec = batch.records;
    const view = batch.view;
    const bytes = batch.bytes;
    const le = this.#le;
    const w = this.#w;
    const count = batch.count;
    const n = this.#n;
    for (let i = 0; i < count; i++) {
      if (!this.#open) this.#start();
      const k = i << 2;
      const off = rec[k]!;
      const len = rec[k + 1]!;
      let hi = rec[k + 2]! >>> 0;
      let lo = rec[k + 3]! >>> 0;
      if (this.#shift) {
        lo += this.#offLo;
        let carry = 0;
        if (lo >= TWO32) {
          lo -= TWO32;
          carry = 1;
        }
        hi = (hi + this.#offHi + carry) >>> 0;
      }
      const enc = encoders.get(len >= 2 ? view.getUint16(off, le) : -1);
      const kind = enc.kind;
      if (kind === ENCODE_COMPACT_SWITCH && len >= enc.compact!.minLength) {
        const c = enc.compact!;
        const j = this.#sw++;
        this.#swTsHi[j] = hi;
        this.#swTsLo[j] = lo;
        if (c.extraSize === 8) {
          this.#swStateLo[j] = view.getUint32(off + c.extra + (le ? 0 : 4), le);
          this.#swStateHi[j] = view.getUint32(off + c.extra + (le ? 4 : 0), le);
        } else {
          const s = view.getInt32(off + c.extra, le);
          this.#swStateLo[j] = s >>> 0;
          this.#swStateHi[j] = s < 0 ? 0xffffffff : 0;
        }
        this.#swPid[j] = view.getInt32(off + c.pid, le);
        this.#swPrio[j] = view.getInt32(off + c.prio, le);
        this.#swComm[j] = this.#commIndex(view, bytes, off + c.comm, c.commSize);
        this.compactSwitches++;
      } else if (kind === ENCODE_COMPACT_WAKING && len >= enc.compact!.minLength) {
        const c = enc.compact!;
        const j = this.#wk++;
        this.#wkTsHi[j] = hi;
        this.#wkTsLo[j] = lo;
        this.#wkPid[j] = view.getInt32(off + c.pid, le);
        this.#wkCpu[j] = view.getInt32(off + c.extra, le);
        this.#wkPrio[j] = view.getInt32(off + c.prio, le);
        this.#wkComm[j] = this.#commIndex(view, bytes, off + c.comm, c.commSize);
        this.#wkFlags[j] = view.getUint8(off + 2);
        this.compactWakings++;
      } else {
        const e = enc.fallback ?? enc;
        const pid = len >= 8 ? view.getInt32(off + 4, le) >>> 0 : 0;
        if (e.kind === ENCODE_UNKNOWN) {
          const m = w.beginShort(FtraceEventBundle.event);
          w.int64(FtraceEvent.timestamp, hi, lo);
          w.int(FtraceEvent.pid, pid);
          e.encode(w, view, bytes, off, len);
          w.endShort(m);
        } else {
          // Lengths known up front: the event's and its payload's.
          const payload = e.measure(view, bytes, off, len);
          const evLen = 1 + varintLen64(hi, lo) + 1 + varintLen(pid) + e.tagLength + varintLen(payload) + payload;
          w.reserve(evLen + 8);
          w.buf[w.pos++] = 0x12; // FtraceEventBundle.event, length-delimited
          w.rawVarint(evLen);
          w.int64(FtraceEvent.timestamp, hi, lo);
          w.int(FtraceEvent.pid, pid);
          w.tag(e.ftraceField, 2);
          w.rawVarint(payload);
          e.write(w, bytes);
        }
      }
      this.events++;
      if (++this.#inBundle >= n) this.flush();
    }
  }

  /** A bundle with no events (lost_events and the clock pair only), e.g. for losses seen at the end. */
  emptyBundle(lost: boolean): void {
    if (this.#inBundle > 0) this.flush();
    if (lost) this.#lostPending = true;
    this.#start();
    this.flush();
  }

  /** Closes the open bundle and hands its packet to the output. */
  flush(): void {
    if (!this.#open) return;
    const w = this.#w;
    if (this.#sw > 0 || this.#wk > 0) this.#writeCompact();
    w.end(this.#bundleMark);
    w.end(this.#packetMark);
    this.#out(w.bytes());
    w.reset();
    this.#open = false;
    this.#inBundle = 0;
    this.#sw = 0;
    this.#wk = 0;
    this.#intern.clear();
    this.#internList.length = 0;
  }

  #writeCompact(): void {
    const w = this.#w;
    const m = w.begin(FtraceEventBundle.compactSched);
    for (const s of this.#internList) w.string(CompactSched.internTable, s);
    const sw = this.#sw;
    if (sw > 0) {
      deltas(w, CompactSched.switchTimestamp, this.#swTsHi, this.#swTsLo, sw);
      let p = w.begin(CompactSched.switchPrevState);
      for (let i = 0; i < sw; i++) w.rawVarint64(this.#swStateHi[i]!, this.#swStateLo[i]!);
      w.end(p);
      packedSigned(w, CompactSched.switchNextPid, this.#swPid, sw);
      packedSigned(w, CompactSched.switchNextPrio, this.#swPrio, sw);
      p = w.begin(CompactSched.switchNextCommIndex);
      for (let i = 0; i < sw; i++) w.rawVarint(this.#swComm[i]!);
      w.end(p);
    }
    const wk = this.#wk;
    if (wk > 0) {
      deltas(w, CompactSched.wakingTimestamp, this.#wkTsHi, this.#wkTsLo, wk);
      packedSigned(w, CompactSched.wakingPid, this.#wkPid, wk);
      packedSigned(w, CompactSched.wakingTargetCpu, this.#wkCpu, wk);
      packedSigned(w, CompactSched.wakingPrio, this.#wkPrio, wk);
      let p = w.begin(CompactSched.wakingCommIndex);
      for (let i = 0; i < wk; i++) w.rawVarint(this.#wkComm[i]!);
      w.end(p);
      p = w.begin(CompactSched.wakingCommonFlags);
      for (let i = 0; i < wk; i++) w.rawVarint(this.#wkFlags[i]!);
      w.end(p);
    }
    w.end(m);
  }
}

/** Packed uint64 timestamps, each relative to the one before (the first to 0), wrapping modulo 2^64. */
function deltas(w: ProtoWriter, field: number, his: Uint32Array, los: Uint32Array, n: number): void {
  const p = w.begin(field);
  let ph = 0;
  let pl = 0;
  for (let i = 0; i < n; i++) {
    const h = his[i]!;
    const l = los[i]!;
    let dl = l - pl;
    let dh = h - ph;
    if (dl < 0) {
      dl += TWO32;
      dh -= 1;
    }
    w.rawVarint64(dh >>> 0, dl);
    ph = h;
    pl = l;
  }
  w.end(p);
}

function packedSigned(w: ProtoWriter, field: number, values: Int32Array, n: number): void {
  const p = w.begin(field);
  for (let i = 0; i < n; i++) w.rawSigned(values[i]!);
  w.end(p);
}

function decodeFixed(bytes: Uint8Array, at: number, size: number): string {
  let end = at;
  while (end < at + size && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString('utf8');
}
