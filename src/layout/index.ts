// tracering/layout: the binary layout of the ring buffer, in one place
// (meta page, sub-buffer header, record walker, timestamps, the
// application ring's control trailer).

export type { BatchSource } from './batch-source.js';
export { MetaPage, type MetaSnapshot, META, TRACE_MMAP_IOCTL_GET_READER } from './meta-page.js';
export { RecordBatch, WalkState, walkRecords, maxRecords } from './record.js';
export { type RingMode, RING_MODES } from './ring-control.js';
export {
  type SubbufLayout,
  type SubbufHeader,
  hostSubbufLayout,
  readSubbufHeader,
  newSubbufHeader,
  dataSize,
  RB_MISSED_EVENTS,
  RB_MISSED_STORED,
  LOST_UNKNOWN,
} from './subbuf.js';
export { tsToBigInt, tsFromBigInt, tsToNumber, tsCompare, tsToDecimal } from './timestamp.js';
