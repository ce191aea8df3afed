// Joins the small sub-buffers a trickle of events produces (a mapped
// reader's batch rebuilt as a page; read() of a page the writer is still
// on) into full ones before staging, so a file does not store a mostly
// empty 4 KiB page per wake-up. Two pages join only when the second
// continues the first exactly: its time_stamp is the clock after the
// first one's last record (so its deltas stay valid appended), it reports
// no loss, and both fit in one sub-buffer. A page at least half full that
// does not join the pending one is staged as it is (PASS_THROUGH): it
// could only take small pages after it, and at high rates, where pages are
// full, that keeps them on the capture thread's native path (native
// staging takes exactly those pages itself while nothing is pending).

import { writeSyntheticHeader } from '../consumer/mapped-consumer.js';
import type { RecordBatch } from '../layout/record.js';
import { type SubbufLayout, dataSize, newSubbufHeader, readSubbufHeader } from '../layout/subbuf.js';

export interface CoalescedPage {
  readonly page: Uint8Array;
  readonly events: number;
  readonly lost: number;
}

/** Pages with at least this share of the data area that join nothing are staged as they are. */
export const PASS_THROUGH = 0.5;

export class PageCoalescer {
  readonly #layout: SubbufLayout;
  readonly #page: Uint8Array;
  readonly #view: DataView;
  readonly #header = newSubbufHeader();
  readonly #limit: number;
  #length = 0;
  #events = 0;
  #lost = 0;
  #tsHi = 0;
  #tsLo = 0;
  #endHi = 0;
  #endLo = 0;
  #pending = false;
  /** When the pending page was started (ms), for the age limit. */
  startedAt = 0;

  constructor(layout: SubbufLayout) {
    this.#layout = layout;
    this.#page = new Uint8Array(layout.subbufSize);
    this.#view = new DataView(this.#page.buffer);
    this.#limit = dataSize(layout);
  }

  get pending(): boolean {
    return this.#pending;
  }

  /** Data bytes from which a page that joins nothing is staged as it is. */
  get passThroughBytes(): number {
    return Math.ceil(this.#limit * PASS_THROUGH);
  }

  /**
   * Offers the batch's page. Returns the page that must be staged first
   * (the pending one, when `page` does not continue it), or null.
   * `emit` receives pages to stage.
   */
  add(page: Uint8Array, batch: RecordBatch, now: number, emit: (p: CoalescedPage) => void): void {
    const h = readSubbufHeader(new DataView(page.buffer, page.byteOffset, page.byteLength), 0, this.#layout, this.#header);
    const continues =
      this.#pending &&
      batch.count > 0 &&
      !h.missedEvents &&
      batch.lostBefore === 0 &&
      h.tsHi === this.#endHi &&
      h.tsLo === this.#endLo &&
      this.#length + h.commitSize <= this.#limit;
    const off = this.#layout.dataOffset;
    if (continues) {
      this.#page.set(page.subarray(off, off + h.commitSize), off + this.#length);
      this.#length += h.commitSize;
      this.#events += batch.count;
    } else {
      this.flush(emit);
      if (h.commitSize >= this.passThroughBytes) {
        emit({ page, events: batch.count, lost: batch.lostBefore });
        return;
      }
      this.#page.set(page.subarray(0, off + h.commitSize));
      this.#length = h.commitSize;
      this.#events = batch.count;
      this.#lost = batch.lostBefore;
      this.#tsHi = h.tsHi;
      this.#tsLo = h.tsLo;
      this.#pending = true;
      this.startedAt = now;
    }
    if (batch.count > 0) {
      this.#endHi = batch.tsHi(batch.count - 1);
      this.#endLo = batch.tsLo(batch.count - 1);
    } else {
      // Nothing to continue from: the next page starts a page of its own.
      this.#endHi = -1;
      this.#endLo = -1;
    }
    // A page within a minimal record of full cannot take more.
    if (this.#limit - this.#length < 16) this.flush(emit);
  }

  /** Stages the pending page, if any. */
  flush(emit: (p: CoalescedPage) => void): void {
    if (!this.#pending) return;
    this.#pending = false;
    this.#page.fill(0, this.#layout.dataOffset + this.#length);
    writeSyntheticHeader(this.#view, this.#layout, this.#tsHi, this.#tsLo, this.#length, this.#lost);
    emit({ page: this.#page, events: this.#events, lost: this.#lost });
  }
}
