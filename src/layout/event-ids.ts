// The event ids a run of whole sub-buffers holds (the u16 common_type of
// every data record): what an output that stores raw pages needs formats for.

import { RecordBatch, WalkState, maxRecords, walkRecords } from './record.js';
import { type SubbufLayout, dataSize, newSubbufHeader, readSubbufHeader } from './subbuf.js';

export class EventIdCollector {
  /** Ids seen so far. */
  readonly ids = new Set<number>();
  readonly #layout: SubbufLayout;
  readonly #batch: RecordBatch;
  readonly #walk = new WalkState();
  readonly #header = newSubbufHeader();

  constructor(layout: SubbufLayout) {
    this.#layout = layout;
    this.#batch = new RecordBatch(maxRecords(dataSize(layout)));
  }

  /** Adds the ids of `pages` (whole sub-buffers); corrupt pages count as far as they parse. */
  add(pages: Uint8Array): void {
    const layout = this.#layout;
    const view = new DataView(pages.buffer, pages.byteOffset, pages.byteLength);
    const batch = this.#batch;
    const le = layout.littleEndian;
    for (let start = 0; start + layout.subbufSize <= pages.byteLength; start += layout.subbufSize) {
      let header;
      try {
        header = readSubbufHeader(view, start, layout, this.#header);
      } catch {
        continue;
      }
      batch.reset(pages, view, -1, 0);
      this.#walk.begin(header.tsHi, header.tsLo);
      walkRecords(layout, start + layout.dataOffset, header.commitSize, 0, this.#walk, batch);
      for (let i = 0; i < batch.count; i++) {
        const at = batch.offset(i);
        if (batch.length(i) >= 2) this.ids.add(view.getUint16(at, le));
      }
    }
  }
}
