// The decoding core: format files, typed decoding, print fmt rendering.
// (Re-exported by the package entry point once it is wired in.)

export { BatchDecoder, type BatchDecoderOptions, type RecordsLike } from './batch-decoder.js';
export { type BtfFacts, loadBtfEnums, loadBtfFacts, parseBtfEnums } from './btf-enums.js';
export { type IntType, scalarType } from './ctypes.js';
export {
  type DataSpan,
  DataAccessor,
  type DecodedEvent,
  type DecoderOptions,
  EventDecoder,
  EventTable,
  type FieldValue,
  IntAccessor,
  SLOT_PAYLOAD_LENGTH,
  SLOT_PAYLOAD_OFFSET,
  type Slot,
  StringAccessor,
  WideAccessor,
} from './field-decoder.js';
export {
  type EventFormat,
  type FieldFormat,
  type FieldKind,
  FORMAT_LIMITS,
  type FormatParseOptions,
  type HeaderEvent,
  type HeaderPage,
  parseFormatFile,
  parseHeaderEvent,
  parseHeaderPage,
} from './format-file.js';
export { FTRACE_BODIES, type FtraceOptions, ftraceBody, ipSymbol } from './ftrace-bodies.js';
export { type Int, fromHiLo } from './int64.js';
export {
  CONSTANTS_FILE,
  HZ_KEY,
  type KernelConstants,
  constantsUsedBy,
  emptyKernelConstants,
  formatKernelConstants,
  parseKernelConstants,
  readJiffies,
  readKernelHz,
  readLiveKernelConstants,
} from './kernel-constants.js';
export { type SymbolInfo, SymbolTable } from './kallsyms.js';
export { PrintkFormats } from './printk-formats.js';
export {
  type CompiledPrintFmt,
  type InterpreterOptions,
  type RenderContext,
  UnknownIdentifierError,
  UnsupportedPrintFmtError,
  compilePrintFmt,
} from './printfmt/interpreter.js';
export { PrintFmtSyntaxError } from './printfmt/lexer.js';
export { type ParseOptions, parsePrintFmt } from './printfmt/parser.js';
export type { Expr, PrintFmtAst } from './printfmt/ast.js';
export {
  DirectorySource,
  type EventLookup,
  EventRegistry,
  type FormatFailure,
  type FormatSource,
  type RegistryOptions,
} from './registry.js';
export { type EventPlan, EventRenderer, type RenderStatus, type RendererOptions } from './renderer.js';
export { FixedStringCache, StringTable, type StringTableOptions, decodeBytes, decodeCString } from './strings.js';
export { type SyscallBody, type SyscallOptions, syscallBody } from './syscall-bodies.js';
