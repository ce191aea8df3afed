// The sub-buffer size of a recording. Up to three files state it:
// events/header_page (data offset + size), buffer_subbuf_size_kb and
// tracering.json's subbufSize, and a tool that copied them from different
// places (the top-level buffer's header_page for an instance with 16 KiB
// sub-buffers) leaves them disagreeing. Reading 16 KiB sub-buffers as 4 KiB
// ones turns one page into four garbled ones; reading 4 KiB ones as 16 KiB
// silently drops three pages in four. So the stated sizes are tried on the
// data itself (the first MiB of each CPU's file): the size that reads with
// no corrupt sub-buffer and finds the most events wins, and the
// disagreement is reported. When the sizes agree they are still checked on
// the first sub-buffers; if those are corrupt, other power-of-two sizes are
// tried the same way (a foreign header_page), and the stated size stays
// when none reads better (the data is then reported as damaged, not the
// geometry).

import fs from 'node:fs';
import { MalformedInputError } from '../errors.js';
import { rethrowUserPath } from '../kernel/fs-errors.js';
import { PageStream } from '../layout/page-stream.js';
import type { SubbufLayout } from '../layout/subbuf.js';
import { openRegularFile } from './user-file.js';

/** Bytes of each CPU's file read to check a size. */
const PROBE_BYTES = 1 << 20;
/** Sub-buffers read to check agreeing sizes. */
const QUICK_PAGES = 16;
/** Sizes tried when the stated one reads as corrupt: what buffer_subbuf_size_kb accepts on 4 KiB pages. */
const FALLBACK_SIZES = [4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576];

export interface StatedSize {
  /** Where it was read: "events/header_page". */
  readonly source: string;
  readonly size: number;
}

export interface Geometry {
  readonly subbufSize: number;
  /** Why the size is not the header_page's, or how the files disagreed; null when all agree with the data. */
  readonly warning: string | null;
}

interface Score {
  readonly size: number;
  /** Sub-buffers with a bad header or bad records. */
  readonly corrupt: number;
  readonly events: number;
  /** Files whose length is not a multiple of the size (a truncated file is damage, not a size: last in the ranking). */
  readonly misaligned: number;
}

/** `buffer_subbuf_size_kb` text as bytes, or null if it is not a number. */
export function parseSubbufSizeKb(text: string): number | null {
  const t = text.trim();
  if (!/^[0-9]{1,7}$/.test(t)) return null;
  return Number(t) * 1024;
}

/** The first `limit` bytes of each file (the files' lengths too). */
function readHeads(files: readonly string[], limit: number): Array<{ bytes: Uint8Array; length: number }> {
  return files.map((path) => {
    const fd = openRegularFile(path);
    try {
      const length = fs.fstatSync(fd).size;
      const bytes = new Uint8Array(Math.min(length, limit));
      let got = 0;
      while (got < bytes.length) {
        const n = fs.readSync(fd, bytes, got, bytes.length - got, got);
        if (n <= 0) break;
        got += n;
      }
      return { bytes: bytes.subarray(0, got), length };
    } catch (error) {
      rethrowUserPath(error, path, 'read');
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** How the data reads as `size`-byte sub-buffers (whole sub-buffers within `limit` bytes of each head). */
function score(heads: ReadonlyArray<{ bytes: Uint8Array; length: number }>, layout: Omit<SubbufLayout, 'subbufSize'>, size: number, limit: number): Score {
  let corrupt = 0;
  let events = 0;
  let misaligned = 0;
  const subbufLayout: SubbufLayout = { ...layout, subbufSize: size };
  for (const head of heads) {
    if (head.length % size !== 0) misaligned++;
    const whole = Math.min(head.bytes.length, limit) - (Math.min(head.bytes.length, limit) % size);
    let at = 0;
    const stream = new PageStream(subbufLayout, 0, (into, pageSize, max) => {
      let n = 0;
      while (n < max && at + pageSize <= whole) {
        into.set(head.bytes.subarray(at, at + pageSize), n * pageSize);
        at += pageSize;
        n++;
      }
      return n;
    }, { readBytes: Math.max(size, 1 << 18) });
    for (let batch = stream.next(); batch !== null; batch = stream.next()) {
      events += batch.count;
      if (batch.corrupt !== null) corrupt++;
    }
  }
  return { size, corrupt, events, misaligned };
}

/** Best first: fewest corrupt sub-buffers, then most events, then fewest misaligned files; ties keep `sizes` order. */
function rank(scores: Score[]): Score[] {
  return scores
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.corrupt - b.s.corrupt || b.s.events - a.s.events || a.s.misaligned - b.s.misaligned || a.i - b.i)
    .map((x) => x.s);
}

function describe(stated: readonly StatedSize[]): string {
  return stated.map((s) => `${s.source} says ${s.size}`).join(', ');
}

/**
 * The sub-buffer size to read `files` with. `stated[0]` is header_page's
 * (the default); `layout` gives the rest of the sub-buffer layout.
 * Throws MalformedInputError when the stated sizes disagree and no size
 * (stated, or one a kernel could have used) reads the data cleanly.
 */
export function resolveSubbufSize(stated: readonly StatedSize[], files: readonly string[], layout: Omit<SubbufLayout, 'subbufSize'>): Geometry {
  const sizes = [...new Set(stated.map((s) => s.size))];
  const declared = sizes[0]!;
  if (files.length === 0) {
    return { subbufSize: declared, warning: sizes.length > 1 ? `sub-buffer sizes disagree (${describe(stated)}); no per-CPU data to tell, using ${declared}` : null };
  }
  const valid = (n: number) => n >= 64 && n <= 1 << 30 && (n & (n - 1)) === 0 && n > layout.dataOffset;
  if (sizes.length === 1) {
    // Agreeing sizes: a look at the first sub-buffers, the full probe only if they are corrupt.
    const quick = score(readHeads(files, declared * QUICK_PAGES), layout, declared, declared * QUICK_PAGES);
    if (quick.corrupt === 0) return { subbufSize: declared, warning: null };
  }
  const heads = readHeads(files, PROBE_BYTES);
  const tried = rank(sizes.filter(valid).map((s) => score(heads, layout, s, PROBE_BYTES)));
  const figures = (list: readonly Score[]) => list.map((s) => `as ${s.size}: ${s.events} events, ${s.corrupt} corrupt`).join('; ');
  const best = tried[0];
  if (best !== undefined && best.corrupt === 0) {
    if (sizes.length === 1) return { subbufSize: declared, warning: null };
    return { subbufSize: best.size, warning: `sub-buffer sizes disagree (${describe(stated)}); the data reads cleanly as ${best.size} (${figures(tried)}): using ${best.size}` };
  }
  // No stated size reads cleanly: the sizes a kernel could have used. One
  // is taken only if it reads cleanly and finds more events than any
  // stated one; else the data is damaged (agreeing sizes) or the sizes
  // cannot be told (disagreeing ones).
  const others = rank(FALLBACK_SIZES.filter((s) => valid(s) && !sizes.includes(s)).map((s) => score(heads, layout, s, PROBE_BYTES)));
  const found = others[0];
  const most = Math.max(0, ...tried.map((s) => s.events));
  if (found !== undefined && found.corrupt === 0 && found.events > most) {
    return {
      subbufSize: found.size,
      warning: `${describe(stated)}, but the data reads as ${found.size}-byte sub-buffers (${found.events} events, none corrupt; ${figures(tried)}): using ${found.size}`,
    };
  }
  if (sizes.length === 1) return { subbufSize: declared, warning: null };
  throw new MalformedInputError(`the recording's sub-buffer size is inconsistent (${describe(stated)}) and no size reads the data cleanly (${figures(tried)})`);
}
