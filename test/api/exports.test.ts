// The package's entry points as an installed package resolves them (the
// package.json `exports` map, dist/): the root loads with the front door,
// every documented subpath loads, and every value the package root
// exported before the layering (and what was added to it since) is
// reachable from the root or some subpath.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserProject, repoRoot } from '../helpers/user-project.js';

/** Values of the root before the layering (its types are checked by the typecheck and the docs build). */
const FORMERLY_AT_ROOT = [
  'APP_EVENT_ID_BASE', 'AppEvent', 'AppRing', 'BatchDecoder', 'BufferMappedError', 'CONSTANTS_FILE', 'ClosedError',
  'ConcurrentReaderError', 'CorruptSubbufError', 'CpuBufferMissingError', 'CpuMerger', 'DataAccessor',
  'DirectorySource', 'EventDecoder', 'EventNotFoundError', 'EventRegistry', 'EventRenderer', 'EventTable',
  'FORMAT_LIMITS', 'FTRACE_BODIES', 'FileCpuReader', 'FixedStringCache', 'HZ_KEY', 'Instance', 'IntAccessor',
  'InvalidArgumentError', 'JsonLines', 'KernelText', 'LOST_UNKNOWN', 'META', 'MalformedInputError', 'MappedConsumer',
  'MappedCpuReader', 'MetaPage', 'MmapUnsupportedError', 'OutputClosedError', 'OutputError', 'PERFETTO_EXTENSIONS',
  'PerfettoSink', 'PrintFmtSyntaxError', 'PrintkFormats', 'RB_MISSED_EVENTS', 'RB_MISSED_STORED', 'RING_MODES',
  'ReadCpuReader', 'RecordBatch', 'Recording', 'RingChannel', 'RingReader', 'RingWriter', 'RingWriterBusyError',
  'SLOT_PAYLOAD_LENGTH', 'SLOT_PAYLOAD_OFFSET', 'StringAccessor', 'StringTable', 'SymbolTable', 'TRACE_API_EVENTS',
  'TRACE_API_SYSTEM', 'TRACE_MMAP_IOCTL_GET_READER', 'TaskNames', 'TimelineRenderer', 'TraceApi', 'TraceArray',
  'TraceSource', 'Tracefs', 'TracefsBusyError', 'TracefsNotFoundError', 'TracefsPermissionError', 'TraceringError',
  'UnknownIdentifierError', 'UnsupportedError', 'UnsupportedPrintFmtError', 'WalkState', 'WarningCode', 'WideAccessor',
  'clockInNs', 'compilePrintFmt', 'constantsUsedBy', 'createPerfettoSink', 'dataSize', 'decodeBytes', 'decodeCString',
  'emitProcessWarning', 'emptyKernelConstants', 'findBufferUsers', 'formatKernelConstants', 'fromHiLo', 'ftraceBody',
  'hostSubbufLayout', 'ipSymbol', 'isPerfettoPath', 'isSystemError', 'latencyFlags', 'loadBtfEnums', 'loadBtfFacts',
  'loadDecodeContext', 'loadSymbols', 'maxRecords', 'newSubbufHeader', 'openCpuReader', 'parseBtfEnums',
  'parseEventSpec', 'parseFormatFile', 'parseHeaderEvent', 'parseHeaderPage', 'parseKernelConstants', 'parsePrintFmt',
  'peekMetaPage', 'readClockPair', 'readJiffies', 'readKernelHz', 'readLiveKernelConstants', 'readSubbufHeader',
  'scalarType', 'syscallBody', 'tsCompare', 'tsFromBigInt', 'tsToBigInt', 'tsToDecimal', 'tsToNumber', 'walkRecords',
  'writeSnapshot',
];

test('every entry point loads as installed, and every former root export is reachable', () => {
  const pkg = JSON.parse(fs.readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');
  assert.ok(subpaths.length >= 10, `${subpaths.length} entry points`);
  using project = new UserProject('trexports-');
  const specifiers = subpaths.map((k) => (k === '.' ? 'tracering' : `tracering/${k.slice(2)}`));
  project.write(
    'probe.mjs',
    `const out = {};\nfor (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(await import(s));\nconsole.log(JSON.stringify(out));\n`,
  );
  const r = project.runPlain('probe.mjs');
  assert.equal(r.status, 0, r.stderr);
  const found = JSON.parse(r.stdout) as Record<string, string[]>;
  const root = new Set(found.tracering);
  for (const name of ['events', 'batches', 'record', 'AppRing', 'AppEvent', 'TraceringError', 'EventNotFoundError', 'declarationsFor']) {
    assert.ok(root.has(name), `the root exports ${name}`);
  }
  for (const [s, names] of Object.entries(found)) assert.ok(names.length > 0, `${s} exports nothing`);
  const everywhere = new Set(Object.values(found).flat());
  const missing = FORMERLY_AT_ROOT.filter((n) => !everywhere.has(n));
  assert.deepEqual(missing, [], 'former root exports no entry point has');
});
