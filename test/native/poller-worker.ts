// Worker body for the addon tests: polls a file descriptor owned by the
// parent, tells the parent it is polling, and waits to be terminated (or
// exits by itself with the poller still active).

import { parentPort, workerData } from 'node:worker_threads';
import { POLL_READABLE, native } from '../../src/native.js';

const { fd, exitItself } = workerData as { fd: number; exitItself: boolean };
const poller = new native.Poller(fd, () => parentPort?.postMessage('readable'));
poller.start(POLL_READABLE);
parentPort?.postMessage('polling');
if (exitItself) setTimeout(() => process.exit(0), 10);
