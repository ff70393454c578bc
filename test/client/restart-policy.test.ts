import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy } from '../../client/src/restartPolicy';

const minute = 60_000;

describe('RestartPolicy', () => {
  it('restarts up to the limit within the window, then gives up', () => {
    const policy = new RestartPolicy({ maxRestarts: 3, windowMs: 3 * minute });
    assert.deepEqual(policy.recordCrash(0), { restart: true, attempt: 1, maxRestarts: 3 });
    assert.deepEqual(policy.recordCrash(10_000), { restart: true, attempt: 2, maxRestarts: 3 });
    assert.deepEqual(policy.recordCrash(20_000), { restart: true, attempt: 3, maxRestarts: 3 });
    assert.deepEqual(policy.recordCrash(30_000), { restart: false, crashes: 4, windowMs: 3 * minute });
  });

  it('forgets crashes older than the window', () => {
    const policy = new RestartPolicy({ maxRestarts: 2, windowMs: minute });
    policy.recordCrash(0);
    policy.recordCrash(1_000);
    // The first two have left the window by now: this is the first crash of a new window.
    assert.deepEqual(policy.recordCrash(minute + 1_000), { restart: true, attempt: 1, maxRestarts: 2 });
    assert.deepEqual(policy.recordCrash(minute + 2_000), { restart: true, attempt: 2, maxRestarts: 2 });
    assert.equal(policy.recordCrash(minute + 3_000).restart, false);
  });

  it('starts a fresh budget after reset (a restart the user asked for)', () => {
    const policy = new RestartPolicy({ maxRestarts: 1, windowMs: minute });
    policy.recordCrash(0);
    assert.equal(policy.recordCrash(1).restart, false);
    policy.reset();
    assert.deepEqual(policy.recordCrash(2), { restart: true, attempt: 1, maxRestarts: 1 });
  });
});
