// Event selectors against the real tracefs: selectors that name their
// systems are resolved from those systems' directories alone; they must
// resolve exactly as from the full listing, and everything else still
// goes through it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventNotFoundError } from '../../src/errors.js';
import { availableEvents, resolveSelector, resolveSelectors } from '../../src/kernel/event-select.js';
import { kernelOrSkip, testInstance } from '../helpers/kernel.js';

describe('event selectors', () => {
  it('named systems resolve as from the full listing; bare names and globs still find every system', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    const full = availableEvents(inst);
    assert.ok(full.has('sched') && full.has('raw_syscalls'), 'this kernel has sched and raw_syscalls');
    for (const specs of [['raw_syscalls'], ['sched', 'raw_syscalls:sys_enter'], ['sched:sched_switch'], ['sched_switch'], ['sched:sched_wak*'], ['*:sys_exit'], ['all']]) {
      const got = resolveSelectors(inst, specs);
      const want = specs.map((s) => resolveSelector(s, full));
      assert.deepEqual(got, want, `selectors ${specs.join(' ')}`);
    }
  });

  it('an unknown event of a named system, or an unknown system, is EventNotFoundError', (t) => {
    const tracefs = kernelOrSkip(t);
    if (!tracefs) return;
    using inst = testInstance(tracefs);
    for (const spec of ['sched:no_such_event', 'no_such_system', 'no_such_system:x']) {
      assert.throws(() => resolveSelectors(inst, [spec]), (e: unknown) => e instanceof EventNotFoundError && e.code === 'ERR_EVENT_NOT_FOUND', spec);
    }
  });
});
