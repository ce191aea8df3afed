// tracering/capture: the capture thread that reads the kernel at its pace,
// and the staging ring that holds pages until the outputs take them.

export { Capture, type CaptureOptions, defaultStagingBytes } from './capture.js';
export { StagingRing, type StagingGeometry, type StagingPolicy } from './staging-ring.js';
