// The reader of an application ring: GET_READER done in shared memory,
// with the kernel's semantics (kernel-abi.md §4.3), and the same consumer
// code as kernel buffers (MappedConsumer) on top.
//
// getReader():
//   if the reader page has committed bytes past reader.read: advance
//     reader.read to them — the writer may still be on this page (the
//     consumer counts their events into `read` as it walks them);
//   else swap: claim the head page (CAS on the head word, bit 0 = swapping),
//     put the old reader page into its ring slot with commit 0, release the
//     head one position on. If events were overwritten since the last swap,
//     the new reader page gets RB_MISSED_EVENTS (and the count after its
//     last real record, RB_MISSED_STORED) once the writer has left it;
//   then publish the meta page (reader.id, reader.read, entries, overrun, read).

import { type MappedChannel, MappedConsumer, type MappedConsumerOptions } from '../consumer/mapped-consumer.js';
import { writeSubbufHeader } from '../layout/encode.js';
import { META } from '../layout/meta-page.js';
import { CTRL, FLAG_WRITER_CLOSED, HEAD_SHIFT, HEAD_SWAPPING, HEAD_UPDATING } from '../layout/ring-control.js';
import { hostSubbufLayout, type SubbufLayout } from '../layout/subbuf.js';
import type { RingControl } from './control.js';

const DATA_OFFSET = 16;

/** A u64 meta field from a Number (exact below 2^53), little-endian. */
function setU64(v: DataView, offset: number, x: number): void {
  v.setUint32(offset, x >>> 0, true);
  v.setUint32(offset + 4, Math.floor(x / 4294967296), true);
}

/** The channel a ring's reader drives: GET_READER semantics in shared memory. */
export class RingChannel implements MappedChannel {
  readonly memory: ArrayBuffer | SharedArrayBuffer;
  readonly label: string;
  readonly #ctl: RingControl;
  readonly #view: DataView;
  readonly #layout: SubbufLayout;
  readonly #dataSize: number;
  #readerId: number;
  #readerRead: number;
  #read: number;
  #lastOverrun: number;
  /** Lost events before the current reader page that its header could not carry. */
  #metaLost = 0;
  /** What the meta page holds (low words of the shared counters): -1 = not yet written. */
  #pubLost = -1;
  #pubEntriesLo = -1;
  #pubOverrunLo = -1;
  #pubRead = -1;

  constructor(ctl: RingControl, label: string) {
    this.#ctl = ctl;
    this.memory = ctl.memory.buffer;
    this.label = label;
    this.#view = ctl.memory.view;
    this.#layout = hostSubbufLayout(ctl.geometry.subbufSize);
    this.#dataSize = ctl.geometry.subbufSize - DATA_OFFSET;
    const v = this.#view;
    this.#readerId = v.getUint32(META.readerId, true);
    this.#readerRead = v.getUint32(META.readerRead, true);
    this.#read = Number(v.getBigUint64(META.read, true));
    // Overwrites already reported by an earlier reader's swaps are not ours.
    this.#lastOverrun = this.#read === 0 ? 0 : Number(v.getBigUint64(META.overrun, true));
  }

  getReader(): void {
    const ctl = this.#ctl;
    for (;;) {
      const id = this.#readerId;
      const commit = ctl.commitSize(id);
      if (this.#readerRead < commit) {
        // The consumer walks [readerRead, commit) and reports the events it
        // found (delivered()), which `read` counts: no second walk here.
        this.#readerRead = commit;
        break;
      }
      if (!this.#swap()) break;
    }
    this.#publish();
  }

  /** Takes the head page as the new reader page; false if the ring holds nothing unread. */
  #swap(): boolean {
    const ctl = this.#ctl;
    let head = ctl.load(CTRL.head);
    // The writer is pushing the head: its overrun is about to be published.
    for (let spins = 0; (head & HEAD_UPDATING) !== 0; spins++) {
      ctl.awaitHeadChange(head, spins);
      head = ctl.load(CTRL.head);
    }
    const headPos = head >>> HEAD_SHIFT;
    const d = ctl.distance(headPos, ctl.load(CTRL.tail) >>> HEAD_SHIFT);
    if (d < 0) return false; // the writer is on the reader page: nothing in the ring
    // The writer has left the reader page, possibly since getReader() looked:
    // it published the page's final commit before moving the tail, so this
    // load sees it. Read the rest before swapping the page away.
    if (ctl.commitSize(this.#readerId) > this.#readerRead) return true;
    const slot = headPos % ctl.slotCount;
    if (d === 0 && ctl.commitSize(ctl.slot(slot)) === 0) return false; // the writer's page, still empty
    // Overrun before the claim: a push after this read changes the head and
    // fails the claim, so the count covers exactly the pages lost so far.
    const overrun = ctl.load64(CTRL.overrun);
    if (!ctl.cas(CTRL.head, head, head | HEAD_SWAPPING)) return true; // look again
    const taken = ctl.slot(slot);
    const old = this.#readerId;
    ctl.setCommit(old, 0);
    ctl.setSlot(slot, old);
    ctl.store(CTRL.head, ctl.nextPosition(headPos) << HEAD_SHIFT);
    if (ctl.load(CTRL.writerWaiting) !== 0) ctl.memory.notify(ctl.word(CTRL.head), 1);
    this.#readerId = taken;
    this.#readerRead = 0;
    this.#markLoss(taken, headPos, overrun);
    return true;
  }

  // rb_get_reader_page + ring_buffer_map_get_reader: the loss since the
  // last swap goes into the new reader page's header (MISSED, and the count
  // after its last real record when it fits), once the writer has left the
  // page. Where the header cannot carry the count (no room, or the writer is
  // still on the page) it goes into the meta page's reader.lost_events, which
  // the kernel leaves 0 after GET_READER: exact either way.
  #markLoss(id: number, position: number, overrun: number): void {
    const ctl = this.#ctl;
    const lost = overrun - this.#lastOverrun;
    this.#lastOverrun = overrun;
    this.#metaLost = 0;
    if (lost <= 0) return;
    if (ctl.load(CTRL.tail) >>> HEAD_SHIFT === position) {
      this.#metaLost = lost;
      return;
    }
    const commit = Math.min(ctl.realEnd(id), this.#dataSize);
    const view = this.#view;
    const start = ctl.subbufStart(id);
    const tsLo = view.getUint32(start, true);
    const tsHi = view.getUint32(start + 4, true);
    writeSubbufHeader(view, start, this.#layout, tsHi, tsLo, commit, lost);
    if (commit + 8 > this.#dataSize) this.#metaLost = lost;
  }

  #publish(): void {
    const ctl = this.#ctl;
    const v = this.#view;
    v.setUint32(META.readerId, this.#readerId, true);
    v.setUint32(META.readerRead, this.#readerRead, true);
    // Only what changed, and without BigInt: this runs on every next(),
    // most often with nothing new. A counter moves by less than 2^32
    // between two calls, so an unchanged low word means unchanged.
    if (this.#metaLost !== this.#pubLost) {
      setU64(v, META.readerLostEvents, this.#metaLost);
      this.#pubLost = this.#metaLost;
    }
    const entriesLo = ctl.low32(CTRL.entries);
    if (entriesLo !== this.#pubEntriesLo) {
      setU64(v, META.entries, ctl.load64(CTRL.entries));
      this.#pubEntriesLo = entriesLo;
    }
    const overrunLo = ctl.low32(CTRL.overrun);
    if (overrunLo !== this.#pubOverrunLo) {
      setU64(v, META.overrun, ctl.load64(CTRL.overrun));
      this.#pubOverrunLo = overrunLo;
    }
    if (this.#read !== this.#pubRead) {
      setU64(v, META.read, this.#read);
      this.#pubRead = this.#read;
    }
  }

  dropped(): number {
    return this.#ctl.load64(CTRL.dropped);
  }

  delivered(events: number): void {
    this.#read += events;
  }

  /** The writer has closed the ring. */
  get writerClosed(): boolean {
    return (this.#ctl.load(CTRL.flags) & FLAG_WRITER_CLOSED) !== 0;
  }

  /** Data the reader has not taken yet: committed bytes on its page, or unread ring pages. */
  hasData(): boolean {
    const ctl = this.#ctl;
    if (ctl.commitSize(this.#readerId) > this.#readerRead) return true;
    const headPos = ctl.load(CTRL.head) >>> HEAD_SHIFT;
    const d = ctl.distance(headPos, ctl.load(CTRL.tail) >>> HEAD_SHIFT);
    return d > 0 || (d === 0 && ctl.commitSize(ctl.slot(headPos % ctl.slotCount)) > 0);
  }
}

/** A consumer of one application ring: the kernel consumer's logic over a RingChannel. */
export class RingReader extends MappedConsumer {
  readonly channel: RingChannel;
  readonly #ctl: RingControl;

  constructor(ctl: RingControl, cpu: number, label: string, options: MappedConsumerOptions = {}) {
    const channel = new RingChannel(ctl, label);
    super(channel, cpu, options);
    this.channel = channel;
    this.#ctl = ctl;
  }

  /**
   * Resolves when the writer signals data at the ring's watermark, the
   * writer closes the ring, or `timeoutMs` passes (whichever is first).
   * Always yields to the event loop, even when data is already there, so a
   * consumer looping on it cannot starve timers and signal handlers.
   */
  async waitReadable(timeoutMs: number): Promise<void> {
    const ctl = this.#ctl;
    const seqWord = ctl.word(CTRL.wakeSeq);
    const seq = Atomics.load(ctl.memory.i32, seqWord);
    ctl.store(CTRL.readerWaiting, 1);
    try {
      if (this.channel.hasData()) await new Promise<void>((resolve) => setImmediate(resolve));
      else await ctl.memory.waitAsync(seqWord, seq, timeoutMs);
    } finally {
      ctl.store(CTRL.readerWaiting, 0);
    }
  }
}
