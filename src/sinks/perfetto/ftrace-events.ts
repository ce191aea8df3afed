// One kernel event as an FtraceEvent's payload: the typed message Perfetto
// defines for it, or a GenericFtraceEvent with every field (name and typed
// value). Encoders are built once per format from the format file (the
// offsets and types the registry parsed), so the hot loop reads each field
// straight from the record with a DataView and writes its varint.

import { DataAccessor, type DataSpan, EventDecoder } from '../../decode/field-decoder.js';
import type { EventFormat, FieldFormat } from '../../decode/format-file.js';
import { decodeBytes } from '../../decode/strings.js';
import { FtraceEvent, GenericField, GenericFtraceEvent } from './fields.js';
import { type ProtoWriter, utf8 } from './proto-writer.js';

/** How a proto field is filled from a kernel field. */
type ProtoType = 'str' | 'int' | 'uint';

interface TypedSpec {
  /** The FtraceEvent field holding the message. */
  readonly ftraceField: number;
  /** [message field, kernel field, proto type]; a missing kernel field is left out. */
  readonly fields: ReadonlyArray<readonly [number, string, ProtoType]>;
}

const WAKEUP_FIELDS = [
  [1, 'comm', 'str'],
  [2, 'pid', 'int'],
  [3, 'prio', 'int'],
  [4, 'success', 'int'],
  [5, 'target_cpu', 'int'],
] as const;

/**
 * Events Perfetto has typed messages for (protos/perfetto/trace/ftrace/*.proto).
 * A typed message holds only the fields its proto defines: of the kernel's
 * fields, raw_syscalls/sys_enter's args and sched_process_exit's group_dead
 * have no place in it.
 */
export const TYPED_EVENTS: ReadonlyMap<string, TypedSpec> = new Map<string, TypedSpec>([
  ['ftrace/print', { ftraceField: FtraceEvent.print, fields: [[1, 'ip', 'uint'], [2, 'buf', 'str']] }],
  [
    'sched/sched_switch',
    {
      ftraceField: 4,
      fields: [
        [1, 'prev_comm', 'str'],
        [2, 'prev_pid', 'int'],
        [3, 'prev_prio', 'int'],
        [4, 'prev_state', 'int'],
        [5, 'next_comm', 'str'],
        [6, 'next_pid', 'int'],
        [7, 'next_prio', 'int'],
      ],
    },
  ],
  ['sched/sched_wakeup', { ftraceField: 17, fields: WAKEUP_FIELDS }],
  ['sched/sched_waking', { ftraceField: 20, fields: WAKEUP_FIELDS }],
  ['sched/sched_wakeup_new', { ftraceField: 114, fields: WAKEUP_FIELDS }],
  ['sched/sched_blocked_reason', { ftraceField: 18, fields: [[1, 'pid', 'int'], [2, 'caller', 'uint'], [3, 'io_wait', 'uint']] }],
  ['sched/sched_process_exec', { ftraceField: 237, fields: [[1, 'filename', 'str'], [2, 'pid', 'int'], [3, 'old_pid', 'int']] }],
  ['sched/sched_process_exit', { ftraceField: 238, fields: [[1, 'comm', 'str'], [2, 'pid', 'int'], [3, 'tgid', 'int'], [4, 'prio', 'int']] }],
  [
    'sched/sched_process_fork',
    { ftraceField: 239, fields: [[1, 'parent_comm', 'str'], [2, 'parent_pid', 'int'], [3, 'child_comm', 'str'], [4, 'child_pid', 'int']] },
  ],
  ['sched/sched_process_free', { ftraceField: 240, fields: [[1, 'comm', 'str'], [2, 'pid', 'int'], [3, 'prio', 'int']] }],
  ['sched/sched_process_hang', { ftraceField: 241, fields: [[1, 'comm', 'str'], [2, 'pid', 'int']] }],
  ['sched/sched_process_wait', { ftraceField: 242, fields: [[1, 'comm', 'str'], [2, 'pid', 'int'], [3, 'prio', 'int']] }],
  ['task/task_newtask', { ftraceField: 235, fields: [[1, 'pid', 'int'], [2, 'comm', 'str'], [3, 'clone_flags', 'uint'], [4, 'oom_score_adj', 'int']] }],
  [
    'task/task_rename',
    { ftraceField: 236, fields: [[1, 'pid', 'int'], [2, 'oldcomm', 'str'], [3, 'newcomm', 'str'], [4, 'oom_score_adj', 'int']] },
  ],
  ['irq/irq_handler_entry', { ftraceField: 36, fields: [[1, 'irq', 'int'], [2, 'name', 'str'], [3, 'handler', 'uint']] }],
  ['irq/irq_handler_exit', { ftraceField: 37, fields: [[1, 'irq', 'int'], [2, 'ret', 'int']] }],
  ['irq/softirq_entry', { ftraceField: 24, fields: [[1, 'vec', 'uint']] }],
  ['irq/softirq_exit', { ftraceField: 25, fields: [[1, 'vec', 'uint']] }],
  ['irq/softirq_raise', { ftraceField: 26, fields: [[1, 'vec', 'uint']] }],
  ['power/cpu_frequency', { ftraceField: 11, fields: [[1, 'state', 'uint'], [2, 'cpu_id', 'uint']] }],
  ['power/cpu_frequency_limits', { ftraceField: 12, fields: [[1, 'min_freq', 'uint'], [2, 'max_freq', 'uint'], [3, 'cpu_id', 'uint']] }],
  ['power/cpu_idle', { ftraceField: 13, fields: [[1, 'state', 'uint'], [2, 'cpu_id', 'uint']] }],
  ['raw_syscalls/sys_enter', { ftraceField: 329, fields: [[1, 'id', 'int']] }],
  ['raw_syscalls/sys_exit', { ftraceField: 330, fields: [[1, 'id', 'int'], [2, 'ret', 'int']] }],
]);

// Value kinds, by how a field's bytes are read.
const K_U8 = 0;
const K_S8 = 1;
const K_U16 = 2;
const K_S16 = 3;
const K_U32 = 4;
const K_S32 = 5;
const K_64 = 6;
const K_STR = 7;
/** Arrays, bitmasks, blobs: through the decoder's object form, written as text. */
const K_OTHER = 8;

/** One field to write: where it is, how to read it, which proto field takes it. */
interface FieldPlan {
  readonly format: FieldFormat;
  readonly kind: number;
  readonly offset: number;
  readonly size: number;
  /** Proto field number of the value. */
  readonly proto: number;
  /** Generic only: the pre-encoded `name` field (tag, length, bytes). */
  readonly nameChunk: Uint8Array;
  readonly span: DataAccessor | null;
}

/** What an encoder is; the bundle writer special-cases the compact ones. */
export const ENCODE_GENERIC = 0;
export const ENCODE_TYPED = 1;
export const ENCODE_COMPACT_SWITCH = 2;
export const ENCODE_COMPACT_WAKING = 3;
export const ENCODE_UNKNOWN = 4;

function kindOf(f: FieldFormat): number {
  if (f.kind === 'int' || f.kind === 'pointer') {
    const signed = f.kind === 'int' && f.signed;
    switch (f.size) {
      case 1:
        return signed ? K_S8 : K_U8;
      case 2:
        return signed ? K_S16 : K_U16;
      case 4:
        return signed ? K_S32 : K_U32;
      case 8:
        return K_64;
      default:
        return K_OTHER;
    }
  }
  return f.isString ? K_STR : K_OTHER;
}

function chunk(field: number, text: string): Uint8Array {
  const bytes = utf8(text);
  if (bytes.length > 0x7f) throw new RangeError('name too long');
  const out = new Uint8Array(2 + bytes.length);
  out[0] = (field << 3) | 2;
  out[1] = bytes.length;
  out.set(bytes, 2);
  return out;
}

function nameChunk(text: string): Uint8Array {
  // Names are C identifiers (format-file.ts checks them), far below 128 bytes.
  return chunk(GenericField.name, text.length > 120 ? text.slice(0, 120) : text);
}

const spanScratch: DataSpan = { offset: 0, length: 0 };
const textEncoder = new TextEncoder();

/** A C string of the field span as a length-delimited field: the bytes when ASCII, else valid UTF-8 of the decoded text. */
function writeCString(w: ProtoWriter, proto: number, bytes: Uint8Array, start: number, max: number): void {
  let n = 0;
  let ascii = true;
  while (n < max) {
    const b = bytes[start + n]!;
    if (b === 0) break;
    if (b >= 0x80) ascii = false;
    n++;
  }
  if (ascii) {
    w.bytesField(proto, bytes, start, n);
    return;
  }
  // Invalid sequences become U+FFFD, as the decoder's strings do.
  const encoded = textEncoder.encode(decodeBytes(bytes, start, n));
  w.bytesField(proto, encoded, 0, encoded.length);
}

/** Text of an array-like value: numbers as [a,b,c], bytes as hex. */
export function arrayText(value: unknown): string {
  if (value instanceof Uint8Array) {
    let s = '';
    for (let i = 0; i < value.length; i++) s += value[i]!.toString(16).padStart(2, '0');
    return s;
  }
  if (Array.isArray(value)) return `[${value.join(',')}]`;
  return String(value);
}

export class EventEncoder {
  readonly kind: number;
  readonly format: EventFormat | null;
  /** FtraceEvent field of the payload message (327 for generic). */
  readonly ftraceField: number;
  /** Bytes of that field's tag. */
  readonly tagLength: number;
  readonly #plans: readonly FieldPlan[];
  readonly #eventName: Uint8Array;
  readonly #le: boolean;
  readonly #decoder: EventDecoder | null;
  /** Compact sched: offsets of the fields it reads. */
  readonly compact: CompactOffsets | null;
  /** Compact sched: the typed encoder, for records too short for the compact form. */
  readonly fallback: EventEncoder | null;
  // measure() → write(): each field's value (or string offset), hi word (or length), lo word, presence.
  readonly #val: Float64Array;
  readonly #hi: Int32Array;
  readonly #lo: Uint32Array;
  readonly #present: Uint8Array;
  readonly #fieldLen: Int32Array;
  readonly #encoded: Array<Uint8Array | null>;
  /** Per field: its name field (generic) and the value's tag, as bytes. */
  readonly #prefix: Uint8Array[];

  private constructor(kind: number, format: EventFormat | null, ftraceField: number, plans: FieldPlan[], le: boolean, compact: CompactOffsets | null) {
    this.kind = kind;
    this.format = format;
    this.ftraceField = ftraceField;
    this.tagLength = varintLen(ftraceField * 8 + 2);
    this.#plans = plans;
    this.#le = le;
    this.#eventName = chunk(GenericFtraceEvent.eventName, format === null ? 'unknown' : format.name.slice(0, 120));
    this.#decoder = format !== null && plans.some((p) => p.kind === K_OTHER) ? new EventDecoder(format, { littleEndian: le }) : null;
    this.compact = compact;
    this.fallback = compact !== null && format !== null ? EventEncoder.forFormat(format, le, { compactSched: false }) : null;
    const n = plans.length;
    this.#val = new Float64Array(n);
    this.#hi = new Int32Array(n);
    this.#lo = new Uint32Array(n);
    this.#present = new Uint8Array(n);
    this.#fieldLen = new Int32Array(n);
    this.#encoded = new Array<Uint8Array | null>(n).fill(null);
    this.#prefix = plans.map((p) => {
      const out = new Uint8Array(p.nameChunk.length + 1);
      out.set(p.nameChunk);
      out[p.nameChunk.length] = (p.proto << 3) | (p.kind === K_STR || p.kind === K_OTHER ? 2 : 0);
      return out;
    });
  }

  /**
   * Reads the record's fields (for write()) and returns the length of the
   * payload message, so that every length is written exactly once, with no
   * moving of bytes (typed and generic kinds only).
   */
  measure(view: DataView, bytes: Uint8Array, base: number, len: number): number {
    const plans = this.#plans;
    const le = this.#le;
    const generic = this.kind === ENCODE_GENERIC;
    const val = this.#val;
    const hiW = this.#hi;
    const loW = this.#lo;
    const present = this.#present;
    let total = generic ? this.#eventName.length : 0;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      const kind = p.kind;
      const at = base + p.offset;
      let vl: number;
      if (kind <= K_64) {
        if (p.offset + p.size > len) {
          present[i] = 0;
          continue;
        }
        if (kind === K_64) {
          const h = view.getUint32(at + (le ? 4 : 0), le);
          const l = view.getUint32(at + (le ? 0 : 4), le);
          hiW[i] = h;
          loW[i] = l;
          vl = varintLen64(h, l);
        } else {
          let v: number;
          switch (kind) {
            case K_U8:
              v = view.getUint8(at);
              break;
            case K_S8:
              v = view.getInt8(at);
              break;
            case K_U16:
              v = view.getUint16(at, le);
              break;
            case K_S16:
              v = view.getInt16(at, le);
              break;
            case K_U32:
              v = view.getUint32(at, le);
              break;
            default:
              v = view.getInt32(at, le);
          }
          val[i] = v;
          vl = v < 0 ? 10 : varintLen(v);
        }
      } else if (kind === K_STR) {
        const sp = p.span!.span(view, base, len, spanScratch);
        let n = 0;
        let ascii = true;
        const start = sp.offset;
        const max = sp.length;
        while (n < max) {
          const b = bytes[start + n]!;
          if (b === 0) break;
          if (b >= 0x80) ascii = false;
          n++;
        }
        if (ascii) {
          val[i] = start;
          hiW[i] = n;
          this.#encoded[i] = null;
        } else {
          const e = textEncoder.encode(decodeBytes(bytes, start, n));
          this.#encoded[i] = e;
          hiW[i] = e.length;
          n = e.length;
        }
        vl = varintLen(n) + n;
      } else {
        const v = this.#decoder!.value(p.format, view, bytes, base, len);
        const e = textEncoder.encode(v === undefined ? '' : arrayText(v));
        this.#encoded[i] = e;
        hiW[i] = e.length;
        vl = varintLen(e.length) + e.length;
      }
      present[i] = 1;
      const fieldLen = this.#prefix[i]!.length + vl;
      this.#fieldLen[i] = fieldLen;
      total += generic ? 1 + varintLen(fieldLen) + fieldLen : fieldLen;
    }
    return total;
  }

  /** Writes the payload message's content measured by the last measure() (of a record in `bytes`). */
  write(w: ProtoWriter, bytes: Uint8Array): void {
    const plans = this.#plans;
    const generic = this.kind === ENCODE_GENERIC;
    if (generic) w.rawBytes(this.#eventName, 0, this.#eventName.length);
    for (let i = 0; i < plans.length; i++) {
      if (this.#present[i] === 0) continue;
      const kind = plans[i]!.kind;
      if (generic) {
        w.reserve(1);
        w.buf[w.pos++] = 0x12;
        w.rawVarint(this.#fieldLen[i]!);
      }
      const prefix = this.#prefix[i]!;
      w.rawBytes(prefix, 0, prefix.length);
      if (kind === K_64) w.rawVarint64(this.#hi[i]!, this.#lo[i]!);
      else if (kind < K_64) w.rawSigned(this.#val[i]!);
      else {
        const n = this.#hi[i]!;
        w.rawVarint(n);
        const e = this.#encoded[i];
        if (e === null || e === undefined) w.rawBytes(bytes, this.#val[i]!, n);
        else w.rawBytes(e, 0, n);
      }
    }
  }

  /** The encoder of records whose id has no usable format: their id and bytes, as a generic event. */
  static unknown(le: boolean): EventEncoder {
    return new EventEncoder(ENCODE_UNKNOWN, null, FtraceEvent.generic, [], le, null);
  }

  static forFormat(format: EventFormat, le: boolean, options: { compactSched: boolean }): EventEncoder {
    const key = `${format.system}/${format.name}`;
    if (options.compactSched && (key === 'sched/sched_switch' || key === 'sched/sched_waking')) {
      const compact = compactOffsets(format, key === 'sched/sched_switch');
      if (compact !== null) {
        return new EventEncoder(key === 'sched/sched_switch' ? ENCODE_COMPACT_SWITCH : ENCODE_COMPACT_WAKING, format, 0, [], le, compact);
      }
    }
    const typed = TYPED_EVENTS.get(key);
    if (typed !== undefined) {
      const plans: FieldPlan[] = [];
      for (const [proto, name, type] of typed.fields) {
        const f = format.byName.get(name);
        if (f === undefined) continue;
        const kind = kindOf(f);
        // A typed message takes a string where the proto says so, and a number otherwise.
        if ((type === 'str') !== (kind === K_STR) || kind === K_OTHER) return EventEncoder.#generic(format, le);
        plans.push(plan(f, kind, proto, le, new Uint8Array(0)));
      }
      if (plans.length > 0) return new EventEncoder(ENCODE_TYPED, format, typed.ftraceField, plans, le, null);
    }
    return EventEncoder.#generic(format, le);
  }

  static #generic(format: EventFormat, le: boolean): EventEncoder {
    const plans: FieldPlan[] = [];
    for (const f of format.fields) {
      if (f.common) continue;
      const kind = kindOf(f);
      const signed = f.kind === 'int' && f.signed;
      const proto = kind === K_STR || kind === K_OTHER ? GenericField.strValue : signed ? GenericField.intValue : GenericField.uintValue;
      plans.push(plan(f, kind, proto, le, nameChunk(f.name)));
    }
    return new EventEncoder(ENCODE_GENERIC, format, FtraceEvent.generic, plans, le, null);
  }

  /** Writes the payload message (typed or generic) of the record at `base` (`len` bytes). */
  encode(w: ProtoWriter, view: DataView, bytes: Uint8Array, base: number, len: number): void {
    if (this.kind === ENCODE_UNKNOWN) {
      this.#unknown(w, view, bytes, base, len);
      return;
    }
    const generic = this.kind === ENCODE_GENERIC;
    const m = w.beginShort(this.ftraceField);
    if (generic) w.rawBytes(this.#eventName, 0, this.#eventName.length);
    const plans = this.#plans;
    const le = this.#le;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      const at = base + p.offset;
      const fixedEnd = p.offset + p.size;
      // A record shorter than its format: the fields it lacks are left out (the decoder does the same).
      if (p.kind !== K_STR && p.kind !== K_OTHER && fixedEnd > len) continue;
      let fm = 0;
      if (generic) {
        fm = w.beginShort(GenericFtraceEvent.field);
        w.rawBytes(p.nameChunk, 0, p.nameChunk.length);
      }
      switch (p.kind) {
        case K_U8:
          w.int(p.proto, view.getUint8(at));
          break;
        case K_S8:
          w.int(p.proto, view.getInt8(at));
          break;
        case K_U16:
          w.int(p.proto, view.getUint16(at, le));
          break;
        case K_S16:
          w.int(p.proto, view.getInt16(at, le));
          break;
        case K_U32:
          w.int(p.proto, view.getUint32(at, le));
          break;
        case K_S32:
          w.int(p.proto, view.getInt32(at, le));
          break;
        case K_64:
          w.int64(p.proto, view.getUint32(at + (le ? 4 : 0), le), view.getUint32(at + (le ? 0 : 4), le));
          break;
        case K_STR: {
          const s = p.span!.span(view, base, len, spanScratch);
          writeCString(w, p.proto, bytes, s.offset, s.length);
          break;
        }
        default: {
          const v = this.#decoder!.value(p.format, view, bytes, base, len);
          w.string(p.proto, v === undefined ? '' : arrayText(v));
        }
      }
      if (generic) w.endShort(fm);
    }
    w.endShort(m);
  }

  #unknown(w: ProtoWriter, view: DataView, bytes: Uint8Array, base: number, len: number): void {
    const m = w.beginShort(FtraceEvent.generic);
    const id = len >= 2 ? view.getUint16(base, this.#le) : -1;
    w.string(GenericFtraceEvent.eventName, 'tracering_unknown_event');
    let fm = w.beginShort(GenericFtraceEvent.field);
    w.string(GenericField.name, 'common_type');
    w.int(GenericField.intValue, id);
    w.endShort(fm);
    fm = w.beginShort(GenericFtraceEvent.field);
    w.string(GenericField.name, 'payload');
    w.string(GenericField.strValue, arrayText(bytes.subarray(base, base + len)));
    w.endShort(fm);
    w.endShort(m);
  }
}

/** Bytes of the varint of a non-negative integer below 2^53. */
export function varintLen(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  for (let x = Math.floor(v / 0x800000000); x > 0; x = Math.floor(x / 128)) n++;
  return n;
}

/** Bytes of the varint of the 64-bit (hi, lo). */
export function varintLen64(hi: number, lo: number): number {
  if (hi === 0) return varintLen(lo >>> 0);
  const bits = 64 - Math.clz32(hi);
  return Math.ceil(bits / 7);
}

function plan(f: FieldFormat, kind: number, proto: number, le: boolean, name: Uint8Array): FieldPlan {
  return { format: f, kind, offset: f.offset, size: f.size, proto, nameChunk: name, span: kind === K_STR ? new DataAccessor(f, le) : null };
}

/** Where compact_sched finds its fields in a sched_switch or sched_waking record. */
export interface CompactOffsets {
  /** Offset and size of the comm (next_comm / comm). */
  readonly comm: number;
  readonly commSize: number;
  /** next_pid / pid. */
  readonly pid: number;
  /** next_prio / prio. */
  readonly prio: number;
  /** switch: prev_state and its size (4 or 8); waking: target_cpu. */
  readonly extra: number;
  readonly extraSize: number;
  /** Bytes the record must have. */
  readonly minLength: number;
}

function compactOffsets(format: EventFormat, isSwitch: boolean): CompactOffsets | null {
  const get = (name: string) => format.byName.get(name);
  const comm = get(isSwitch ? 'next_comm' : 'comm');
  const pid = get(isSwitch ? 'next_pid' : 'pid');
  const prio = get(isSwitch ? 'next_prio' : 'prio');
  const extra = get(isSwitch ? 'prev_state' : 'target_cpu');
  if (comm === undefined || pid === undefined || prio === undefined || extra === undefined) return null;
  if (comm.kind !== 'array' || !comm.isString || pid.size !== 4 || prio.size !== 4 || (extra.size !== 4 && extra.size !== 8)) return null;
  if (!isSwitch && extra.size !== 4) return null;
  const minLength = Math.max(comm.offset + comm.size, pid.offset + 4, prio.offset + 4, extra.offset + extra.size);
  return { comm: comm.offset, commSize: comm.size, pid: pid.offset, prio: prio.offset, extra: extra.offset, extraSize: extra.size, minLength };
}
