// The reader against trace-cmd's own files: the pages it yields are the
// raw pages trace-cmd was given, and every option, buffer and CPU region
// matches what `trace-cmd dump` reads from the same file.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventRegistry } from '../../src/decode/registry.js';
import { MalformedInputError } from '../../src/errors.js';
import { OPTION_NAMES, Option } from '../../src/tracedat/constants.js';
import { TraceDat } from '../../src/tracedat/index.js';
import { dumpFlyrecordV6, dumpOptions, dumpSummary, parseBufferBody } from './dump.js';
import { PAGE, fixture, pagesOf, rawPages, traceCmd, traceCmdSkip } from './support.js';

const FILES = ['sched-v7-none.dat', 'sched-v7-zstd.dat', 'sched-v6.dat'];

describe('trace-cmd files', () => {
  for (const name of FILES) {
    test(`${name}: pages are the raw pages trace-cmd was given, byte for byte`, () => {
      using t = TraceDat.open(fixture(name));
      const pages = pagesOf(t);
      assert.deepEqual([...pages.keys()].sort(), ['/0', '/1']);
      for (const cpu of [0, 1]) assert.ok(pages.get(`/${cpu}`)!.equals(rawPages(cpu)), `CPU ${cpu}`);
    });

    test(`${name}: batches walk every record; the missed-events page reports its loss`, () => {
      using t = TraceDat.open(fixture(name));
      const lost: number[] = [];
      let records = 0;
      let pages = 0;
      for (const reader of t.openCpus()) {
        for (let b = reader.next(); b !== null; b = reader.next()) {
          assert.equal(b.corrupt, null);
          records += b.count;
          if (b.lostBefore !== 0) lost.push(reader.cpu);
          // lastPages are the raw bytes the batch came from.
          const raw = rawPages(reader.cpu);
          const last = reader.lastPages;
          const at = (reader.pages - last.length / PAGE) * PAGE;
          assert.ok(Buffer.from(last).equals(raw.subarray(at, at + last.length)));
        }
        assert.ok(reader.caughtUp);
        pages += reader.pages;
      }
      assert.equal(pages, 6);
      // The golden report: 240 events and one "CPU:1 [EVENTS DROPPED]".
      assert.equal(records, 240);
      assert.deepEqual(lost, [1]);
    });

    test(`${name}: header, buffers and every option agree with trace-cmd dump`, (t) => {
      const skip = traceCmdSkip();
      if (skip) return t.skip(skip);
      using dat = TraceDat.open(fixture(name));
      const summary = dumpSummary(fixture(name));
      assert.equal(dat.version, summary.version);
      assert.equal(dat.littleEndian, summary.littleEndian);
      assert.equal(dat.longSize, summary.longSize);
      assert.equal(dat.pageSize, summary.pageSize);
      assert.equal(dat.compression?.name ?? null, summary.compression);

      const options = dumpOptions(fixture(name)).filter((o) => o.name !== 'DONE');
      assert.deepEqual(
        dat.options.list.map((o) => [OPTION_NAMES[o.id], o.size]),
        options.map((o) => [o.name, o.size]),
      );
      for (const o of options) {
        if (o.name === 'CPUCOUNT') assert.equal(dat.options.cpuCount, Number(o.body.trim()));
        if (o.name === 'UNAME') assert.equal(dat.options.uname, o.body.trim());
        if (o.name === 'VERSION') assert.equal(dat.options.version, o.body.trim());
        if (o.name === 'TRACECLOCK') assert.equal(dat.options.traceClock?.trim(), o.body.trim());
        if (o.name === 'BUFFER') {
          const b = parseBufferBody(o.body);
          const mine = dat.buffer(b.name);
          assert.equal(mine.offset, b.offset);
          if (b.clock !== null) assert.equal(mine.clock, b.clock);
          if (b.pageSize !== null) assert.equal(mine.pageSize, b.pageSize);
          if (dat.version === 7) assert.deepEqual(mine.cpus, b.cpus);
        }
      }
      if (dat.version === 6) {
        assert.deepEqual(dat.top!.cpus, dumpFlyrecordV6(fixture(name)));
      } else {
        assert.deepEqual(
          dat.buffers.map((b) => ({ name: b.name, clock: b.clock, pageSize: b.pageSize, cpus: b.cpus.length })),
          summary.buffers.map((b) => ({ name: b.name, clock: b.clock, pageSize: b.pageSize, cpus: b.cpus })),
        );
      }
      assert.equal(dat.cpuCount, 2);
    });

    test(`${name}: the metadata loads into EventRegistry with the ids trace-cmd reads`, (t) => {
      const skip = traceCmdSkip();
      if (skip) return t.skip(skip);
      using dat = TraceDat.open(fixture(name));
      const registry = new EventRegistry(dat.formatSource());
      assert.deepEqual(registry.failures, []);
      const events = traceCmd(['dump', '--events', fixture(name)]).stdout;
      const pairs = [...events.matchAll(/^name: (\S+)\nID: (\d+)/gm)].map((m) => [m[1], Number(m[2])]);
      assert.ok(pairs.length >= 2);
      for (const [event, id] of pairs) assert.equal(registry.get(id as number)?.name, event);
      assert.equal(registry.headerPage?.subbufSize, dat.pageSize);
      const source = dat.formatSource();
      assert.match(source.readOptional('saved_cmdlines') ?? '', /^100 worker\n200 tracering\n/);
      assert.equal(source.readOptional('trace_clock'), '[local]\n');
      assert.deepEqual(dat.layout(), { subbufSize: 4096, dataOffset: 16, longSize: 8, littleEndian: true });
    });
  }

  test('the handmade minimal files (no options in v6, no EVENT_FORMATS in v7) open and walk', () => {
    for (const name of ['handmade-v7-min.dat', 'handmade-v6-min.dat']) {
      using t = TraceDat.open(fixture(name));
      const [reader] = t.openCpus();
      let records = 0;
      for (let b = reader!.next(); b !== null; b = reader!.next()) records += b.count;
      assert.equal(records, 2, name);
      const registry = new EventRegistry(t.formatSource());
      assert.equal(registry.find('ftrace', 'print')?.name, 'print');
    }
  });

  test('a buffer name that is not there is a coded error naming the buffers', () => {
    using t = TraceDat.open(fixture('sched-v7-none.dat'));
    assert.throws(() => t.buffer('nope'), { code: 'ERR_TRACEFS_NOT_FOUND', message: /has no buffer "nope" \(it has: \(top\)\)/ });
  });

  test('a file that is not a trace.dat is ERR_MALFORMED_INPUT', () => {
    assert.throws(() => TraceDat.open(fixture('sched-cpu0.raw')), (e: unknown) => e instanceof MalformedInputError && /not a trace.dat/.test(e.message));
  });

  test('reading after close is ERR_CLOSED', () => {
    const t = TraceDat.open(fixture('sched-v7-zstd.dat'));
    const r = t.openCpu('', 0);
    t.close();
    assert.throws(() => r.next(), { code: 'ERR_CLOSED' });
    assert.equal(Option.BUFFER, 3);
  });
});
