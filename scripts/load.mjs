#!/usr/bin/env node
// A bounded machine load, alone or around a command:
//
//   node scripts/load.mjs [options] [-- command args...]
//
// While it runs (until the command ends, or --seconds without one):
// * spawn storms: per storm, /bin/sh runs /bin/true in a loop (fork + exec
//   for every one), in chunks of CHUNK processes, started again until the
//   deadline or the total budget (--spawns) is spent. They use up pids
//   (pid_max is often 32768, so pids get reused) and keep the scheduler busy;
// * CPU burners: busy loops, each ending by itself at the deadline;
// * cmdline churn (unless --no-trace): an instance of its own with sched
//   events and record-tgid on, so that the kernel keeps recording the
//   storms' comms and tgids in the global saved_cmdlines and saved_tgids,
//   which is what makes the COMM and TGID columns of any `trace` file
//   change under a reader. The instance is removed on every exit path but
//   SIGKILL (then `rmdir /sys/kernel/tracing/instances/trtest-load-*`).
//
// With --runs N the command runs N times under the same load, and the
// summary says how many runs passed. Exit status: the command's (the last
// failure's with --runs), or 0.
//
// Options: --storms N (default: CPUs), --burners N (default: CPUs),
// --seconds S (hard bound on the load, default 3600), --spawns N (total
// spawn budget, default 20,000,000), --runs N (default 1), --no-trace.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const CHUNK = 1000;
const TRACEFS = '/sys/kernel/tracing';
const CHURN_EVENTS = ['sched/sched_switch', 'sched/sched_wakeup', 'sched/sched_process_fork', 'sched/sched_process_exec', 'sched/sched_process_exit'];

function parseArgs(argv) {
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const command = split < 0 ? [] : argv.slice(split + 1);
  const cpus = os.availableParallelism();
  const opts = { storms: cpus, burners: cpus, seconds: 3600, spawns: 20_000_000, runs: 1, trace: true, command };
  for (let i = 0; i < own.length; i++) {
    const a = own[i];
    if (a === '--no-trace') {
      opts.trace = false;
      continue;
    }
    const key = { '--storms': 'storms', '--burners': 'burners', '--seconds': 'seconds', '--spawns': 'spawns', '--runs': 'runs' }[a];
    const value = Number(own[i + 1]);
    if (key === undefined || !Number.isInteger(value) || value < 0 || value > 1e9) {
      console.error(`load: bad option ${a} ${own[i + 1] ?? ''}`.trim());
      process.exit(2);
    }
    opts[key] = value;
    i++;
  }
  if (opts.seconds === 0) opts.seconds = 1;
  if (command.length === 0 && split >= 0) {
    console.error('load: nothing after --');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const deadline = Date.now() + opts.seconds * 1000;
const children = new Set();
let stopping = false;
let spawned = 0;
let budget = opts.spawns;

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** One storm: chunks of CHUNK fork+exec of /bin/true, until the deadline or the budget. */
function storm() {
  if (stopping || Date.now() >= deadline || budget <= 0) return;
  const n = Math.min(CHUNK, budget);
  budget -= n;
  const script = `i=0; while [ $i -lt ${n} ]; do /bin/true; i=$((i+1)); done`;
  const child = track(spawn('/bin/sh', ['-c', script], { stdio: 'ignore' }));
  child.once('exit', (code) => {
    if (code === 0) spawned += n;
    storm();
  });
}

/** A busy loop that ends by itself at the deadline (even if this process is killed). */
function burner() {
  const code = `const end = ${deadline}; let x = 0; while (Date.now() < end) { for (let i = 0; i < 1e6; i++) x += i; }`;
  track(spawn(process.execPath, ['-e', code], { stdio: 'ignore' }));
}

// --- cmdline churn: our own instance, sched events on ----------------------
let churn = null;
let churnName = null;

function write(path, value) {
  fs.writeFileSync(path, value);
}

function startChurn() {
  if (!fs.existsSync(join(TRACEFS, 'instances'))) {
    console.error('load: no tracefs instances/ (not root, or tracefs not mounted): no cmdline churn');
    return;
  }
  const dir = join(TRACEFS, 'instances', `trtest-load-${process.pid}`);
  fs.mkdirSync(dir);
  churn = dir;
  churnName = dir;
  write(join(dir, 'buffer_size_kb'), '256');
  write(join(dir, 'options/record-tgid'), '1');
  for (const e of CHURN_EVENTS) {
    const enable = join(dir, 'events', e, 'enable');
    if (fs.existsSync(enable)) write(enable, '1');
  }
  write(join(dir, 'tracing_on'), '1');
}

function stopChurn() {
  if (churn === null) return;
  const dir = churn;
  churn = null;
  try {
    write(join(dir, 'tracing_on'), '0');
    write(join(dir, 'events/enable'), '0');
  } catch {
    // rmdir below says whether it matters
  }
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    console.error(`load: could not remove ${dir}: ${error.message}`);
    process.exitCode = 1;
  }
}

function stopLoad() {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGKILL');
  stopChurn();
}

/** The command running under the load, if any. */
let command = null;

process.on('exit', stopLoad);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopLoad();
    // The command is ended too: it must not outlive the load that was meant to test it.
    if (command !== null) {
      try {
        process.kill(-command.pid, signal);
      } catch {
        // the group is gone
      }
    }
    process.exit(128 + os.constants.signals[signal]);
  });
}

// --- run ---------------------------------------------------------------------
const started = Date.now();
if (opts.trace) {
  try {
    startChurn();
  } catch (error) {
    stopChurn();
    console.error(`load: cmdline churn not started: ${error.message}`);
  }
}
for (let i = 0; i < opts.storms; i++) storm();
for (let i = 0; i < opts.burners; i++) burner();
const describeLoad = () =>
  `${opts.storms} spawn storms, ${opts.burners} CPU burners${churnName !== null ? `, cmdline churn in ${churnName}` : ''}`;
console.error(`load: ${describeLoad()}, for at most ${opts.seconds} s`);

function runOnce() {
  return new Promise((resolve) => {
    // Its own process group, so that a signal reaches the whole command (npm, the runner, each test file).
    const child = spawn(opts.command[0], opts.command.slice(1), { stdio: 'inherit', detached: true });
    command = child;
    child.once('error', (error) => {
      console.error(`load: ${opts.command[0]}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (os.constants.signals[signal] ?? 0)));
  });
}

function summary() {
  const s = (Date.now() - started) / 1000;
  return `${spawned} processes spawned in ${s.toFixed(0)} s (${(spawned / s).toFixed(0)}/s), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`;
}

if (opts.command.length === 0) {
  const timer = setInterval(() => {
    if (Date.now() < deadline) return;
    clearInterval(timer);
    console.error(`load: ${summary()}`);
    stopLoad();
  }, 200);
} else {
  const hardStop = setTimeout(() => {
    console.error(`load: the load's time bound (${opts.seconds} s) passed; stopping the load, the command goes on unloaded`);
    stopLoad();
  }, opts.seconds * 1000);
  let passed = 0;
  let status = 0;
  for (let run = 1; run <= opts.runs; run++) {
    const code = await runOnce();
    if (code === 0) passed++;
    else status = code;
    console.error(`load: run ${run} of ${opts.runs} ${code === 0 ? 'passed' : `failed (exit ${code})`}; ${summary()}`);
  }
  clearTimeout(hardStop);
  if (opts.runs > 1) console.error(`load: ${passed} of ${opts.runs} runs passed under ${describeLoad()}`);
  stopLoad();
  process.exitCode = status;
}
