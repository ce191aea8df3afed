// The worker side: rebuilds the input from snapshots and queued pages, and
// runs the Parquet writer on it, one message at a time.

import { parentPort, workerData } from 'node:worker_threads';
import type { SinkInput } from '../../sink.js';
import { InlineParquetSink } from '../parquet-sink.js';
import { MemorySource } from './memory-source.js';
import { QueuedPageCursor } from './page-cursor.js';
import { type FileUpdates, type FromWorker, type ToWorker, type WorkerInput, toWire } from './protocol.js';

if (parentPort === null) throw new Error('parquet-worker runs in a worker thread');
const port: NonNullable<typeof parentPort> = parentPort;
const data = workerData as WorkerInput;
const post = (m: FromWorker) => port.postMessage(m);

const root = new MemorySource(data.root);
const cursors: QueuedPageCursor[] = [];
const bufferFiles: MemorySource[] = [];
const ringFormats: MemorySource[] = [];
const input: SinkInput = {
  live: data.live,
  label: data.label,
  buffers: data.buffers.map((b) => {
    const files = new MemorySource(b.files);
    bufferFiles.push(files);
    const cpus = b.cpus.map((cpu) => {
      const c = new QueuedPageCursor(cpu, b.layout);
      cursors.push(c);
      return c;
    });
    return { name: b.name, clock: b.clock, layout: b.layout, cpus, files, startStats: new Map(b.startStats) };
  }),
  rings: [],
  files: root,
  kallsyms: () => null,
  context: () => {
    throw new Error('the Parquet writer does not use a shared decode context');
  },
  machine: data.machine,
  clockPairs: data.clockPairs,
  onWarning: (w) => post({ type: 'warning', code: w.code, message: w.message, ...(w.cpu !== undefined ? { cpu: w.cpu } : {}) }),
};
(input.rings as SinkInput['rings'][number][]).push(
  ...data.rings.map((r) => {
    const cursor = new QueuedPageCursor(r.cpu, r.layout);
    cursors.push(cursor);
    const formats = new MemorySource(r.formats);
    ringFormats.push(formats);
    return { name: r.name, path: r.path, cursor, formats, writerPid: r.writerPid, writerTid: r.writerTid };
  }),
);

function update(files: FileUpdates | null): void {
  if (files === null) return;
  if (files.root !== undefined) root.update(files.root);
  files.buffers?.forEach((f, i) => bufferFiles[i]?.update(f));
  files.rings?.forEach((snapshot, i) => {
    if (snapshot !== null) ringFormats[i]?.replaceFormats(snapshot);
  });
}

const sink = new InlineParquetSink(data.dir, data.options);
let chain: Promise<void> = Promise.resolve();
let failed = false;

async function handle(m: ToWorker): Promise<void> {
  if (failed && m.type !== 'abort') return;
  try {
    switch (m.type) {
      case 'data':
        for (const run of m.runs) cursors[run.source]?.push(new Uint8Array(run.bytes), run.pages, run.lostBefore);
        update(m.files);
        await sink.consume();
        post({ type: 'consumed', bytes: m.bytes, written: sink.bytesWritten });
        break;
      case 'close':
        update(m.files);
        post({ type: 'closed', report: await sink.close(m.end) });
        port.close();
        break;
      case 'abort':
        await sink.abort(new Error(m.reason));
        post({ type: 'aborted' });
        port.close();
        break;
    }
  } catch (error) {
    failed = true;
    post({ type: 'error', error: toWire(error) });
  }
}

try {
  sink.open(input);
  post({ type: 'opened', run: sink.run });
  port.on('message', (m: ToWorker) => {
    chain = chain.then(() => handle(m));
  });
} catch (error) {
  post({ type: 'error', error: toWire(error) });
  port.close();
}

