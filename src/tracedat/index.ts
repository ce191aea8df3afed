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
