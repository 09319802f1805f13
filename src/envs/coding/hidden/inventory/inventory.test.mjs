import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Inventory } from '../src/inventory.js';

function stocked(count, reorderLevel = 5) {
  const inv = new Inventory();
  for (let i = 1; i <= count; i++) inv.add(`SKU-${String(i).padStart(3, '0')}`, { name: `item ${i}`, quantity: i, reorderLevel });
  return inv;
}

describe('inventory pages and low stock', () => {
  it('counts a partial last page', () => {
    assert.equal(stocked(25).list({ pageSize: 10 }).totalPages, 3);
    assert.equal(stocked(1).list({ pageSize: 10 }).totalPages, 1);
  });

  it('counts exact pages without an empty extra one', () => {
    assert.equal(stocked(20).list({ pageSize: 10 }).totalPages, 2);
    assert.equal(stocked(0).list({ pageSize: 10 }).totalPages, 0);
  });

  it('returns the items of the last partial page', () => {
    const { items } = stocked(25).list({ page: 3, pageSize: 10 });
    assert.deepEqual(items.map((i) => i.sku), ['SKU-021', 'SKU-022', 'SKU-023', 'SKU-024', 'SKU-025']);
  });

  it('flags items at their reorder level as low stock', () => {
    assert.deepEqual(stocked(7).lowStock(), ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005']);
  });

  it('does not flag items above their reorder level', () => {
    const inv = stocked(7);
    inv.restock('SKU-005', 1);
    assert.deepEqual(inv.lowStock(), ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004']);
  });
});
