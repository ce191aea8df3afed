// Files of a recording directory are user input: each is opened as a regular
// file or refused with a coded error, never waited on.

import fs from 'node:fs';
import { MalformedInputError } from '../errors.js';
import { rethrowUserPath } from '../kernel/fs-errors.js';

/**
 * Opens `path` for reading: a regular file, else a coded error (EISDIR for
 * a directory). O_NONBLOCK so that a FIFO in a hostile recording cannot
 * block the open (it has no effect on regular files).
 */
export function openRegularFile(path: string): number {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    rethrowUserPath(error, path, 'open');
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path}`), { code: 'EISDIR', errno: -21, syscall: 'read', path });
    if (!st.isFile()) throw new MalformedInputError(`${path} is not a regular file`);
  } catch (error) {
    fs.closeSync(fd);
    rethrowUserPath(error, path, 'read');
  }
  return fd;
}

/** Whole contents of a regular file (see openRegularFile). */
export function readRegularFile(path: string): string {
  const fd = openRegularFile(path);
  try {
    return fs.readFileSync(fd, 'utf8');
  } catch (error) {
    rethrowUserPath(error, path, 'read');
  } finally {
    fs.closeSync(fd);
  }
}
