import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Inventory } from '../src/inventory.js';

function stocked(count) {
  const inv = new Inventory();
  for (let i = 1; i <= count; i++) inv.add(`SKU-${String(i).padStart(3, '0')}`, { name: `item ${i}`, quantity: i, reorderLevel: 5 });
  return inv;
}

test('adds and takes stock', () => {
  const inv = stocked(3);
  assert.equal(inv.take('SKU-003', 2), 1);
  assert.throws(() => inv.take('SKU-001', 2), /only 1/);
});

test('lists the first page sorted by sku', () => {
  const { items, page } = stocked(12).list({ page: 1, pageSize: 5 });
  assert.equal(page, 1);
  assert.deepEqual(items.map((i) => i.sku), ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005']);
});
