// trace.dat (trace-cmd's file format): reader and writer.
export { TraceDat, TraceDatCpuReader } from './reader.js';
export type { TraceDatBuffer, TraceDatCompression, OpenCpuOptions } from './reader.js';
export type { CpuRegion } from './cpu-data.js';
export type { TraceDatMetadata, EventSystem } from './metadata.js';
export type { TraceDatOptions, CpuStat, RawOption, Tsc2Nsec } from './options.js';
export { selectedClock } from './options.js';
export { TraceDatFormatSource } from './format-source.js';
export { zstdCanCompress, zstdDecoder } from './zstd.js';
export { Option as TraceDatOption, OPTION_NAMES as TRACEDAT_OPTION_NAMES } from './constants.js';
export { TraceDatWriter, listLeftovers, removeLeftovers } from './writer.js';
export type { TraceDatWriterOptions, TraceDatBufferSpec, TraceDatFinishInfo, TraceDatWriteResult, CpuStatText, Leftovers } from './writer.js';
export type { Text as TraceDatText, EncodedSystem as TraceDatSystem } from './encode.js';
export { convertTraceDat } from './convert.js';
export type { ConvertOptions } from './convert.js';
export type { CopyStats } from './file-io.js';
