// Benchmark (not a test): the live view's own CPU cost, in its two parts.
//  1. Per event: TopSink.count() over page-sized batches (145 records of 28
//     bytes, 40 event ids, runs of the same pid), beside the record walker
//     over the same pages (what the capture pays per event anyway).
//  2. Per frame: model update + frame + layout + row-diffed ANSI draw at
//     80x24 into a null terminal.
// Then the view's share of a core at 1 M events/s and 1 frame/s, against
// the goal (<= 2%).
//
// Run: node --import tsx test/live/view-cost-bench.ts
// (Exports run(): it can move to bench/live-view.ts as a suite as is.)

import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { layoutFrame } from '../../src/live/layout.js';
import { LiveModel } from '../../src/live/model.js';
import type { CountEntry } from '../../src/live/sample.js';
import { TerminalScreen } from '../../src/live/terminal.js';
import { TopSink } from '../../src/live/top-sink.js';
import { RecordBatch, WalkState, maxRecords, walkRecords } from '../../src/layout/record.js';
import { hostSubbufLayout } from '../../src/layout/subbuf.js';

const GOAL_PERCENT = 2;
const RATE = 1_000_000;

function cpuMs(f: () => void): number {
  const t = process.cpuUsage();
  f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** Page-sized sub-buffers of small records, walked once into batches. */
function pages(count: number): { bytes: Uint8Array; view: DataView; batches: RecordBatch[] } {
  const layout = hostSubbufLayout(4096);
  const bytes = new Uint8Array(count * 4096);
  const view = new DataView(bytes.buffer);
  let seed = 1;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let p = 0; p < count; p++) {
    const base = p * 4096 + 16;
    let pid = 1000;
    for (let i = 0; i < 145; i++) {
      const at = base + i * 28;
      view.setUint32(at, 6 | (100 << 5), true); // type_len 6: a 24-byte payload
      if (rnd() < 0.3) pid = 1000 + Math.floor(rnd() * 400);
      view.setUint16(at + 4, 300 + Math.floor(rnd() * 40), true);
      view.setInt32(at + 8, pid, true);
    }
    view.setUint32(p * 4096 + 8, 145 * 28, true);
  }
  const batches: RecordBatch[] = [];
  for (let p = 0; p < count; p++) {
    const b = new RecordBatch(maxRecords(4080));
    const w = new WalkState();
    b.reset(bytes, view, 0, p);
    w.begin(0, 0);
    walkRecords(layout, p * 4096 + 16, 145 * 28, 0, w, b);
    batches.push(b);
  }
  return { bytes, view, batches };
}

class NullTty extends Writable {
  readonly isTTY = true;
  readonly columns = 80;
  readonly rows = 24;
  bytes = 0;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.bytes += chunk.length;
    cb();
  }
}

export async function run(): Promise<void> {
  // 1. per event
  const { bytes, view, batches } = pages(256);
  const layout = hostSubbufLayout(4096);
  const sink = new TopSink();
  sink.open({
    context: () => ({ littleEndian: true, registry: { generation: 0, lookup: () => ({ status: 'unknown' }) }, tasks: { comm: () => 'task' } }),
    buffers: [],
    rings: [],
  } as never);
  const events = batches.reduce((n, b) => n + b.count, 0);
  const rounds = 200;
  const walk: number[] = [];
  const count: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    walk.push(
      cpuMs(() => {
        for (let r = 0; r < rounds; r++) {
          for (let p = 0; p < batches.length; p++) {
            const b = batches[p] as RecordBatch;
            const w = new WalkState();
            b.reset(bytes, view, 0, p);
            w.begin(0, 0);
            walkRecords(layout, p * 4096 + 16, 145 * 28, 0, w, b);
          }
        }
      }),
    );
    count.push(
      cpuMs(() => {
        for (let r = 0; r < rounds; r++) {
          for (const b of batches) sink.count(b);
          if (r % 20 === 0) sink.take();
        }
      }),
    );
  }
  const nsWalk = (median(walk) * 1e6) / (events * rounds);
  const nsCount = (median(count) * 1e6) / (events * rounds);
  const takeMs = median(Array.from({ length: 20 }, () => cpuMs(() => sink.take())));

  // 2. per frame
  const model = new LiveModel({ startMs: 0 });
  const out = new NullTty();
  const screen = new TerminalScreen(out as unknown as NodeJS.WriteStream, { isTTY: false, setEncoding() {}, on() {}, off() {}, resume() {}, pause() {} } as unknown as NodeJS.ReadStream);
  screen.start({ onInput() {}, onResize() {} });
  let t = 0;
  const cum = [0, 0];
  const frame = () => {
    t += 1000;
    for (let c = 0; c < 2; c++) cum[c]! += Math.round((RATE / 2) * (1 + 0.3 * Math.sin(t / 3000 + c)));
    const evs: CountEntry[] = Array.from({ length: 60 }, (_, i) => ({ key: i, name: `sys${i % 7}:event_${i}`, count: Math.round(1e5 / (i + 1)) + (t % 97) }));
    const tasks: CountEntry[] = Array.from({ length: 200 }, (_, i) => ({ key: 1000 + i, name: `task${i}`, count: Math.round(5e4 / (i + 1)) }));
    model.update(
      {
        atMs: t,
        clock: 'local',
        buffer: 'bench',
        cpus: cum.map((e, cpu) => ({ cpu, mode: cpu ? 'read' : 'mmap', events: e, bytes: e * 28, lost: cpu * (t / 7000), dropped: 0, fillPercent: (t / 100) % 100, subbufSize: 4096, bufferKb: 1408 })),
        rings: [],
        selfCpuPercent: 0.5,
      },
      { events: evs, tasks },
    );
    screen.draw(layoutFrame(model.frame(), screen.size));
  };
  for (let i = 0; i < 50; i++) frame();
  const frames = 500;
  const b0 = out.bytes;
  const frameMs = median(Array.from({ length: 5 }, () => cpuMs(() => { for (let i = 0; i < frames; i++) frame(); }))) / frames;
  const bytesPerFrame = (out.bytes - b0) / (5 * frames);
  screen.restore();

  const perSecondMs = (RATE * nsCount) / 1e6 + takeMs + frameMs;
  const percent = perSecondMs / 10;
  console.log('live view cost');
  console.log(`  count by event and pid  ${nsCount.toFixed(2)} ns/event   record walk (peer) ${nsWalk.toFixed(2)} ns/event   ratio ${(nsCount / nsWalk).toFixed(2)}`);
  console.log(`  take() per interval     ${(takeMs * 1000).toFixed(0)} us`);
  console.log(`  frame 80x24             ${(frameMs * 1000).toFixed(0)} us (update + layout + draw), ${bytesPerFrame.toFixed(0)} bytes written`);
  console.log(`  at ${RATE / 1e6} M events/s, 1 frame/s: ${percent.toFixed(2)}% of a core; goal <= ${GOAL_PERCENT}% (ratio ${(percent / GOAL_PERCENT).toFixed(2)})`);
  console.log(JSON.stringify({ suite: 'live-view', nsPerEventCount: nsCount, nsPerEventWalk: nsWalk, takeUs: takeMs * 1000, frameUs: frameMs * 1000, bytesPerFrame, percentOfCoreAt1M: percent, goalPercent: GOAL_PERCENT }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
