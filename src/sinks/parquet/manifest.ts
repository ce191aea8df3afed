// The manifest of one run: what the run is (host, boot, clocks, options),
// and what each committed segment holds (its files, rows, time range).
// A segment is committed when it is listed here; the file is replaced
// atomically (temporary file, fsync, rename) after each segment.

import fs from 'node:fs';
import { dirname, join } from 'node:path';

export interface ManifestFile {
  readonly table: 'events' | 'losses' | 'processes';
  /** Relative to the output directory. */
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  readonly system?: string;
  readonly event?: string;
}

export interface ManifestSegment {
  readonly seq: number;
  readonly started_at: string;
  readonly closed_at: string;
  readonly rows: number;
  readonly bytes: number;
  /** ts range of the segment's events (decimal ns), null when it has none. */
  readonly ts_min: string | null;
  readonly ts_max: string | null;
  readonly files: readonly ManifestFile[];
}

export interface ManifestClockSource {
  /** A kernel buffer ('' top level) or 'ring:NAME'. */
  readonly source: string;
  /** The clock the source's timestamps count in. */
  readonly source_clock: string;
  /** The clock of ts after conversion ('boot' where it could be converted). */
  readonly ts_clock: string;
  /** Added to the source's timestamps (decimal ns). */
  readonly offset_ns: string;
}

export interface Recovered {
  readonly run: string;
  readonly path: string;
  readonly moved_to: string;
  readonly reason: string;
}

export interface Manifest {
  readonly format: 'tracering-parquet';
  readonly schema_version: number;
  readonly run: string;
  readonly host: string;
  readonly boot_id: string;
  readonly input: string;
  readonly live: boolean;
  readonly machine: { readonly sysname: string; readonly release: string; readonly machine: string; readonly online_cpus: number };
  readonly started_at: string;
  closed_at: string | null;
  /** True once the run closed normally; false while it runs, and for a run that crashed or was aborted. */
  complete: boolean;
  end_reason: string | null;
  readonly ts: {
    readonly clocks: readonly ManifestClockSource[];
    /** Realtime minus boot time when the input started (decimal ns), null when unknown. */
    readonly realtime_offset_ns: string | null;
  };
  readonly options: {
    readonly segment_mb: number;
    readonly segment_s: number;
    readonly compression: string;
    readonly row_group_rows: number;
  };
  readonly layout: Record<string, string>;
  readonly segments: ManifestSegment[];
  /** Incomplete files of earlier runs this run found and moved aside at its start. */
  readonly recovered: Recovered[];
  /** Set on the manifest of a run that died, by the run that found its leftovers. */
  recovered_by?: string;
}

export function manifestPath(root: string, relativeDir: string, run: string): string {
  return join(root, relativeDir, `${run}.json`);
}

export function readManifest(path: string): Manifest | null {
  try {
    const m = JSON.parse(fs.readFileSync(path, 'utf8')) as Manifest;
    return m !== null && typeof m === 'object' && m.format === 'tracering-parquet' && Array.isArray(m.segments) ? m : null;
  } catch {
    return null;
  }
}

/** Replaces the manifest atomically. */
export function writeManifest(path: string, manifest: Manifest, fsync: boolean): void {
  fs.mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${manifest.run}.json.tmp`);
  const fd = fs.openSync(temp, 'w', 0o644);
  try {
    fs.writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
    if (fsync) fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, path);
}

