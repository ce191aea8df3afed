// Registers every input kind with openInput(). Importing this module makes
// them all available to report and convert.

import './tracedat-input.js';
