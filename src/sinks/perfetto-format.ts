// Registers the Perfetto sink with the sink factory (.perfetto-trace, .pftrace).

import { registerSink } from './factory.js';
import { createPerfettoSink } from './perfetto/index.js';

registerSink('perfetto', (path) => createPerfettoSink(path));
