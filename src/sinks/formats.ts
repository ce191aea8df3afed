// Registers every output format with the sink factory. Importing this
// module makes them all available to record, convert and report.

import './text-file-sink.js';
import './perfetto-format.js';
import './tracedat-sink.js';
