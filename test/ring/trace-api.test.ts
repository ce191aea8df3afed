// The trace API's events are ordinary ring events: kernel text and JSON
// Lines render them readably; spans end on return, throw, promise
// settlement and scope exit.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDecodeContext } from '../../src/output/decode-context.js';
import { TimelineRenderer } from '../../src/output/report.js';
import { AppRing } from '../../src/ring/app-ring.js';
import { TraceApi } from '../../src/ring/trace-api.js';

function render(ring: AppRing, format: 'text' | 'json'): string[] {
  const reader = ring.reader();
  const ctx = loadDecodeContext({ formats: [ring.formats] });
  let text = '';
  new TimelineRenderer([reader], ctx, { format, write: (s) => (text += s) }).run();
  ring.releaseReader();
  return text.trim().split('\n');
}

describe('TraceApi', () => {
  it('renders as kernel text and JSON Lines', async () => {
    using ring = AppRing.create({ subbufs: 8, name: 'api' });
    const writer = ring.writer({ autoFlush: false });
    const trace = new TraceApi(ring, writer);
    trace.begin('request');
    trace.instant('cache miss');
    trace.counter('queue', 42);
    trace.counter('load', 0.25);
    trace.counter('big', 2n ** 62n);
    trace.end();
    assert.equal(trace.span('sync', () => 7), 7);
    assert.equal(await trace.span('async', async () => 8), 8);
    assert.throws(() => trace.span('throws', () => {
      throw new Error('x');
    }), /x/);
    {
      using _span = trace.span('scoped');
      trace.begin('left open');
    }
    assert.equal(trace.depth, 0, 'a span ends what it opened and what was left open inside it');
    assert.throws(() => trace.end(), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => trace.counter('nan', Number.NaN), { code: 'ERR_INVALID_ARG_VALUE' });
    writer.close();
    const lines = render(ring, 'text').map((l) => l.replace(/^.*?\d+\.\d{6}: /, ''));
    assert.deepEqual(lines, [
      'slice_begin: name=request',
      'instant: name=cache miss',
      'counter: name=queue value=42',
      'counter_double: name=load value=0.25',
      `counter: name=big value=${2n ** 62n}`,
      'slice_end: name=request',
      'slice_begin: name=sync',
      'slice_end: name=sync',
      'slice_begin: name=async',
      'slice_end: name=async',
      'slice_begin: name=throws',
      'slice_end: name=throws',
      'slice_begin: name=scoped',
      'slice_begin: name=left open',
      'slice_end: name=left open',
      'slice_end: name=scoped',
    ]);
  });

  it('a second TraceApi on the ring reuses the events defined before', () => {
    using ring = AppRing.create({ subbufs: 8 });
    const writer = ring.writer();
    new TraceApi(ring, writer);
    const before = ring.events().length;
    new TraceApi(ring, writer);
    assert.equal(ring.events().length, before);
    writer.close();
  });

  it('JSON Lines gives the typed fields', () => {
    using ring = AppRing.create({ subbufs: 8 });
    const writer = ring.writer({ autoFlush: false });
    new TraceApi(ring, writer).counter('q', -5);
    writer.close();
    const [line] = render(ring, 'json');
    const obj = JSON.parse(line!) as { system: string; event: string; fields: Record<string, unknown> };
    assert.equal(obj.system, 'tracering');
    assert.equal(obj.event, 'counter');
    assert.deepEqual(obj.fields, { name: 'q', value: -5 });
  });
});
