// Registers the Parquet sink with the sink factory (--format parquet: a directory).

import { registerSink } from './factory.js';
import { type ParquetSinkOptions, createParquetSink } from './parquet/index.js';

registerSink('parquet', (path, o) => {
  const options: ParquetSinkOptions = {};
  if (o.segmentMb !== undefined) options.segmentMb = o.segmentMb;
  if (o.segmentS !== undefined) options.segmentS = o.segmentS;
  if (o.host !== undefined) options.host = o.host;
  // "no compression" carries over; otherwise Parquet picks its own (zstd where Node has it, else gzip).
  if (o.compression === 'none') options.compression = 'none';
  return createParquetSink(path, options);
});
