// The viewer's page cursor: each page of a list is asked for once, even when the table asks for
// more before React has rendered the page that just arrived (a 10,000-rollout run once showed
// 10,500 rows: one page fetched and appended twice).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PageCursor } from '../../web/src/api/paging.ts';

describe('the viewer page cursor', () => {
  it('asks for the next cursor as soon as a page arrives, and for nothing while one is on its way', () => {
    const pages = new PageCursor();
    const first = pages.start('rollouts:r1');
    assert.deepEqual([first.cursor, first.first], [null, true]);
    assert.equal(pages.following(), null, 'the first page is still on its way');
    assert.equal(pages.arrived(first, 'c1'), true);
    const second = pages.following();
    assert.deepEqual([second?.cursor, second?.first], ['c1', false]);
    assert.equal(pages.following(), null, 'asked twice before the page arrived');
    assert.equal(pages.arrived(second!, 'c2'), true);
    assert.equal(pages.following()?.cursor, 'c2', 'never the page already taken');
  });

  it('takes a page once, and stops at the last one', () => {
    const pages = new PageCursor();
    const first = pages.start('k');
    assert.equal(pages.arrived(first, null), true);
    assert.equal(pages.arrived(first, null), false, 'the same answer taken twice');
    assert.equal(pages.following(), null);
  });

  it('drops what was on its way when the list starts over, and aborts its fetch', () => {
    const pages = new PageCursor();
    const old = pages.start('filter=a');
    const current = pages.start('filter=b');
    assert.equal(old.signal.aborted, true);
    assert.equal(pages.arrived(old, 'x'), false);
    assert.equal(current.key, 'filter=b');
    assert.equal(pages.arrived(current, 'y'), true);
    const dropped = pages.following()!;
    pages.stop();
    assert.equal(dropped.signal.aborted, true);
    assert.equal(pages.arrived(dropped, 'z'), false);
    assert.equal(pages.following()?.cursor, 'y', 'a page dropped on its way is asked for again, never skipped');
  });

  it('asks for nothing more after a failure until the list starts over', () => {
    const pages = new PageCursor();
    const first = pages.start('k');
    assert.equal(pages.arrived(first, 'c1'), true);
    const second = pages.following()!;
    assert.equal(pages.failedWith(second), true);
    assert.equal(pages.following(), null);
    assert.equal(pages.start('k').cursor, null);
  });
});
