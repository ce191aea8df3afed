// Losses where Perfetto's UI shows them (Info and stats → Data losses):
//
// * FtraceStats at the start and at the end of the trace: each CPU's
//   per_cpu/cpuN/stats file (entries, overrun, commit overrun, bytes,
//   oldest/now ts, dropped, read). trace_processor turns them into
//   ftrace_cpu_*_begin/_end/_delta stats.
// * Events tracering's own pipeline dropped (CpuEnd.stagingLost: the staging
//   ring was full, so new pages were refused, as a non-overwrite kernel
//   buffer refuses events) are added to the END stats' dropped_events: the
//   stat for events refused by a full buffer, which Perfetto reports as an
//   error (ftrace_cpu_dropped_events_delta). The bundle after the gap also
//   carries lost_events (the cursor's lostBefore counts them).
// * Application ring losses: TraceStats.buffer_stats, one per ring, with
//   trace_writer_packet_loss = events lost (traced_buf_trace_writer_packet_loss,
//   severity data_loss), and writer_stats tying the ring's packet sequence
//   to that buffer.

import { parseCpuStats } from '../../kernel/cpu-stats.js';
import { BufferStats, FtraceCpuStats, FtraceStats, TracePacket, TraceStats, WriterStats } from './fields.js';
import type { ProtoWriter } from './proto-writer.js';

export interface CpuStatsInput {
  cpu: number;
  /** The stats file text (null: unknown, written as the CPU number only). */
  text: string | null;
  /** Events dropped on the way (added to dropped_events). */
  extraDropped: number;
}

function seconds(text: string): number | null {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : null;
}

export function writeFtraceStats(w: ProtoWriter, phase: number, cpus: readonly CpuStatsInput[], sequenceId: number): void {
  const packet = w.begin(1);
  const stats = w.begin(TracePacket.ftraceStats);
  w.int(FtraceStats.phase, phase);
  for (const c of cpus) {
    const m = w.beginShort(FtraceStats.cpuStats);
    w.int(FtraceCpuStats.cpu, c.cpu);
    if (c.text !== null) {
      const s = parseCpuStats(c.text);
      w.int(FtraceCpuStats.entries, s.entries);
      w.int(FtraceCpuStats.overrun, s.overrun);
      w.int(FtraceCpuStats.commitOverrun, s.commitOverrun);
      w.int(FtraceCpuStats.bytesRead, s.bytes);
      const oldest = seconds(s.oldestEventTs);
      const now = seconds(s.nowTs);
      if (oldest !== null) w.double(FtraceCpuStats.oldestEventTs, oldest);
      if (now !== null) w.double(FtraceCpuStats.nowTs, now);
      w.int(FtraceCpuStats.droppedEvents, s.droppedEvents + c.extraDropped);
      w.int(FtraceCpuStats.readEvents, s.readEvents);
    } else if (c.extraDropped > 0) {
      w.int(FtraceCpuStats.droppedEvents, c.extraDropped);
    }
    w.endShort(m);
  }
  w.end(stats);
  w.int(TracePacket.trustedPacketSequenceId, sequenceId);
  w.end(packet);
}

export interface RingStatsInput {
  /** The ring's packet sequence. */
  sequenceId: number;
  /** Events lost (overwritten or refused in the ring). */
  lost: number;
}

export function writeTraceStats(w: ProtoWriter, rings: readonly RingStatsInput[], sequenceId: number): void {
  const packet = w.begin(1);
  const stats = w.begin(TracePacket.traceStats);
  for (const r of rings) {
    const m = w.beginShort(TraceStats.bufferStats);
    w.int(BufferStats.traceWriterPacketLoss, r.lost);
    w.endShort(m);
  }
  rings.forEach((r, i) => {
    const m = w.beginShort(TraceStats.writerStats);
    w.int(WriterStats.sequenceId, r.sequenceId);
    w.int(WriterStats.buffer, i);
    w.endShort(m);
  });
  w.end(stats);
  w.int(TracePacket.trustedPacketSequenceId, sequenceId);
  w.end(packet);
}
