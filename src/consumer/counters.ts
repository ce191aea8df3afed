// What a consumer of one buffer has seen, kernel or application ring.

/** What a consumer of one buffer has seen: events, bytes, sub-buffers, and every kind of loss. */
export interface CpuReaderCounters {
  /** Data records delivered. */
  events: number;
  /** Data-area bytes consumed (records, headers and padding). */
  bytes: number;
  /** Sub-buffers started (new reader ids or pages read). */
  subbufs: number;
  /** Events the kernel overwrote before we read them. */
  lost: number;
  /** Events refused by a full buffer in non-overwrite mode (from the kernel's stats at finish). */
  dropped: number;
  /** Sub-buffers dropped in part because their records were inconsistent. */
  corrupt: number;
  /** Buffer resets seen while reading (echo > trace, clock change). */
  resets: number;
  /** Events that another consumer took from this buffer while we read it. */
  consumedElsewhere: number;
  /** Of `subbufs`, those the capture thread moved into staging in native code, with no JavaScript per page. */
  nativeStaged: number;
}

/** Counters at zero. */
export function newCounters(): CpuReaderCounters {
  return { events: 0, bytes: 0, subbufs: 0, lost: 0, dropped: 0, corrupt: 0, resets: 0, consumedElsewhere: 0, nativeStaged: 0 };
}

/** Adds every counter of `c` into `into`. */
export function addCounters(into: CpuReaderCounters, c: Readonly<CpuReaderCounters>): CpuReaderCounters {
  for (const k of Object.keys(into) as Array<keyof CpuReaderCounters>) into[k] += c[k];
  return into;
}
