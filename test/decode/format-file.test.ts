// Format files, header_page and header_event: every field form, and
// malformed or hostile text raising MalformedInputError (never a crash).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MalformedInputError } from '../../src/errors.js';
import { parseFormatFile, parseHeaderEvent, parseHeaderPage } from '../../src/decode/format-file.js';
import { cpuMs } from '../helpers/cpu-time.js';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures');
const read = (rel: string) => fs.readFileSync(path.join(fixtures, rel), 'utf8');

const COMMON = [
  '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;',
  '\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;',
  '\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;',
  '\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;',
].join('\n');

function format(fields: string[], printFmt = '"x"', name = 'test_event', id = '900'): string {
  return `name: ${name}\nID: ${id}\nformat:\n${COMMON}\n\n${fields.map((f) => `\t${f}`).join('\n')}\n\nprint fmt: ${printFmt}\n`;
}

function rejects(text: string, pattern?: RegExp): void {
  assert.throws(
    () => parseFormatFile(text),
    (e: unknown) => e instanceof MalformedInputError && (e as MalformedInputError).code === 'ERR_MALFORMED_INPUT' && (pattern === undefined || pattern.test((e as Error).message)),
  );
}

describe('parseFormatFile', () => {
  it('parses sched_switch of the fixture', () => {
    const f = parseFormatFile(read('sched/tracefs/events/sched/sched_switch/format'), { system: 'sched' });
    assert.equal(f.name, 'sched_switch');
    assert.equal(f.system, 'sched');
    assert.equal(f.id, 372);
    assert.equal(f.commonCount, 4);
    assert.equal(f.fields.length, 11);
    assert.equal(f.fixedSize, 64);
    const comm = f.byName.get('prev_comm')!;
    assert.deepEqual([comm.kind, comm.offset, comm.size, comm.elementCount, comm.isString], ['array', 8, 16, 16, true]);
    const state = f.byName.get('prev_state')!;
    assert.deepEqual([state.kind, state.size, state.signed], ['int', 8, true]);
    assert.ok(f.byName.get('common_pid')!.common);
    assert.ok(!f.byName.get('next_prio')!.common);
    assert.match(f.printFmt, /^"prev_comm=%s prev_pid=%d/);
    assert.match(f.printFmt, /REC->next_prio$/);
  });

  it('classifies every field form', () => {
    const f = parseFormatFile(
      format([
        'field:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;',
        'field:__rel_loc u8[] blob;\toffset:12;\tsize:4;\tsigned:0;',
        'field:__data_loc cpumask_t cpumask;\toffset:16;\tsize:4;\tsigned:0;',
        'field:__data_loc unsigned long[] mask;\toffset:20;\tsize:4;\tsigned:0;',
        'field:const char * fmt;\toffset:24;\tsize:8;\tsigned:0;',
        'field:u8 saddr[4];\toffset:32;\tsize:4;\tsigned:0;',
        'field:unsigned long caller[8];\toffset:40;\tsize:64;\tsigned:0;',
        'field:bool b;\toffset:104;\tsize:1;\tsigned:0;',
        'field:struct foo embedded;\toffset:105;\tsize:3;\tsigned:0;',
        'field:u32 buf[];\toffset:108;\tsize:0;\tsigned:0;',
      ]),
      { system: 'x' },
    );
    const by = (n: string) => f.byName.get(n)!;
    assert.deepEqual([by('filename').kind, by('filename').isString, by('filename').elementSize], ['dynamic', true, 1]);
    assert.deepEqual([by('blob').kind, by('blob').isString], ['relative', false]);
    assert.deepEqual([by('cpumask').kind, by('cpumask').isBitmask, by('cpumask').elementSize], ['dynamic', true, 8]);
    assert.deepEqual([by('mask').isBitmask, by('mask').elementType], [true, 'unsigned long']);
    assert.deepEqual([by('fmt').kind, by('fmt').elementType], ['pointer', 'const char *']);
    assert.deepEqual([by('saddr').kind, by('saddr').elementSize, by('saddr').elementCount, by('saddr').isString], ['array', 1, 4, false]);
    assert.deepEqual([by('caller').elementSize, by('caller').elementCount], [8, 8]);
    assert.equal(by('b').kind, 'int');
    assert.equal(by('embedded').kind, 'blob');
    assert.deepEqual([by('buf').kind, by('buf').elementSize, by('buf').size], ['flex', 4, 0]);
    assert.equal(by('buf').type, 'u32[]');
    assert.equal(by('filename').type, '__data_loc char[]');
  });

  it('accepts print fmts spanning lines (raw newlines inside the string)', () => {
    const f = parseFormatFile(format(['field:int a;\toffset:8;\tsize:4;\tsigned:1;'], '"a=%d\n", REC->a'));
    assert.equal(f.printFmt, '"a=%d\n", REC->a');
  });

  it('parses the ftrace internal formats (flexible arrays)', () => {
    const print = parseFormatFile(read('markers/tracefs/events/ftrace/print/format'), { system: 'ftrace' });
    assert.deepEqual([print.id, print.byName.get('buf')!.kind, print.byName.get('buf')!.isString], [5, 'flex', true]);
    const bprint = parseFormatFile(read('markers/tracefs/events/ftrace/bprint/format'), { system: 'ftrace' });
    assert.equal(bprint.byName.get('buf')!.elementSize, 4);
    const fn = parseFormatFile(read('markers/tracefs/events/ftrace/function/format'), { system: 'ftrace' });
    assert.equal(fn.byName.get('args')!.kind, 'flex');
  });

  it('rejects malformed and hostile text', () => {
    rejects('', /missing "name:"/);
    rejects('name: x\nID: 1\nformat:\n', /missing "print fmt:"/);
    rejects(format(['field:int a;\toffset:8;\tsize:4;\tsigned:1;']).slice(0, 40));
    rejects(format(['field:int a;\toffset:99999999;\tsize:4;\tsigned:1;']), /offset/);
    rejects(format(['field:int a;\toffset:8;\tsize:4294967296;\tsigned:1;']), /size/);
    rejects(format(['field:int a;\toffset:1048570;\tsize:100;\tsigned:1;']), /beyond/);
    rejects(format(['field:int a;\toffset:-8;\tsize:4;\tsigned:1;']), /decimal/);
    rejects(format(['field:int a;\toffset:8;\tsize:4;\tsigned:2;']), /signed/);
    rejects(format(['field:int a;\toffset:8;\tsize:0;\tsigned:1;']), /size 0/);
    rejects(format(['field:char a[3];\toffset:8;\tsize:4;\tsigned:1;']), /multiple/);
    rejects(format(['field:__data_loc char[] a;\toffset:8;\tsize:8;\tsigned:0;']), /size 4/);
    rejects(format(['field:char a[];\toffset:8;\tsize:4;\tsigned:0;']), /size 0/);
    rejects(format(['field:int a;\toffset:8;\tsize:4;\tsigned:1;', 'field:int a;\toffset:12;\tsize:4;\tsigned:1;']), /twice/);
    rejects(format(['field:int a;\toffset:8;\tsize:4;\tsigned:1;\tcolor:red;']), /does not have the form/);
    rejects(format(['field:int a;\toffset:8;\tcolor:4;\tsigned:1;']), /unknown field attribute/);
    rejects(format(['field:int a'], '"x"'), /field line/);
    rejects(format(['field:int a;\toffset:8;\tsize:4;\tsigned:1;'], '"x"', 'x', '70000'), /ID/);
    rejects(format(['field:int a;\toffset:8;\tsize:4;\tsigned:1;'], '"x"', 'bad name!'), /event name/);
    rejects(`${format([])}\0`, /NUL/);
    rejects('x'.repeat(2 << 20), /too long/);
    rejects(`name: a\nID: 1\nformat:\n${'\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;\n'.repeat(2000)}print fmt: "x"\n`, /twice|more than/);
  });

  it('rejects injection attempts in field names', () => {
    rejects(format(['field:int a"); process.exit(1); //;\toffset:8;\tsize:4;\tsigned:1;']), /does not have the form/);
    rejects(format(['field:int a"), process.exit(1), (b;\toffset:8;\tsize:4;\tsigned:1;']), /unexpected characters/);
    rejects(format(['field:int a=1;\toffset:8;\tsize:4;\tsigned:1;']), /unexpected characters/);
    rejects(format(['field:int a[1]b;\toffset:8;\tsize:4;\tsigned:1;']));
    rejects(format(['field:int 1abc;\toffset:8;\tsize:4;\tsigned:1;']));
    rejects(format(['field:int ${x};\toffset:8;\tsize:4;\tsigned:1;']));
  });

  it('handles long and repetitive input in linear time', () => {
    const cpu = cpuMs(() => {
      // Long declarations are bounded...
      rejects(format([`field:${'unsigned '.repeat(100)}int a;\toffset:8;\tsize:4;\tsigned:0;`]), /too long/);
      // ...and pathological whitespace or brackets cost nothing.
      rejects(format([`field:int a${'['.repeat(300)};\toffset:8;\tsize:4;\tsigned:0;`]));
      parseFormatFile(format([`field:int a;${' '.repeat(100000)}offset:8;\tsize:4;\tsigned:0;`]));
    });
    assert.ok(cpu < 1000, `${cpu.toFixed(0)} ms of CPU`);
  });
});

describe('parseHeaderPage / parseHeaderEvent', () => {
  it('reads the 64-bit layout', () => {
    const h = parseHeaderPage(read('sched/tracefs/events/header_page'));
    assert.deepEqual(h, { timestampOffset: 0, commitOffset: 8, commitSize: 8, dataOffset: 16, dataSize: 4080, subbufSize: 4096 });
  });

  it('reads a 32-bit layout', () => {
    const text = [
      '\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;',
      '\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;',
      '\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;',
      '\tfield: char data;\toffset:12;\tsize:4084;\tsigned:0;',
    ].join('\n');
    assert.deepEqual(parseHeaderPage(text), { timestampOffset: 0, commitOffset: 8, commitSize: 4, dataOffset: 12, dataSize: 4084, subbufSize: 4096 });
  });

  it('rejects inconsistent header pages', () => {
    const bad = read('sched/tracefs/events/header_page').replace('size:4080', 'size:4000');
    assert.throws(() => parseHeaderPage(bad), MalformedInputError);
    assert.throws(() => parseHeaderPage('garbage'), MalformedInputError);
    assert.throws(() => parseHeaderPage(read('sched/tracefs/events/header_page').replace('offset:16', 'offset:20')), /data must follow/);
  });

  it('checks the record header encoding', () => {
    const h = parseHeaderEvent(read('sched/tracefs/events/header_event'));
    assert.deepEqual([h.typeLenBits, h.timeDeltaBits, h.paddingType, h.timeExtendType, h.timeStampType, h.dataMaxTypeLen], [5, 27, 29, 30, 31, 28]);
    assert.throws(() => parseHeaderEvent(read('sched/tracefs/events/header_event').replace('27 bits', '26 bits')), /unsupported record header/);
    assert.throws(() => parseHeaderEvent('type_len : 5 bits\n'), MalformedInputError);
  });
});
