// Hidden suite for coding/inventory-pagination. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { Inventory: 'src/inventory.js#Inventory' },
  setup: ({ Inventory }) => ({
    stocked(count, reorderLevel = 5) {
      const inv = new Inventory();
      for (let i = 1; i <= count; i++) inv.add(`SKU-${String(i).padStart(3, '0')}`, { name: `item ${i}`, quantity: i, reorderLevel });
      return inv;
    },
  }),
  cases: [
    {
      name: 'counts a partial last page',
      run: ({ stocked }) => [stocked(25).list({ pageSize: 10 }).totalPages, stocked(1).list({ pageSize: 10 }).totalPages],
      expect: [3, 1],
    },
    {
      name: 'counts exact pages without an empty extra one',
      run: ({ stocked }) => [stocked(20).list({ pageSize: 10 }).totalPages, stocked(0).list({ pageSize: 10 }).totalPages],
      expect: [2, 0],
    },
    {
      name: 'returns the items of the last partial page',
      run: ({ stocked }) => stocked(25).list({ page: 3, pageSize: 10 }).items.map((i) => i.sku),
      expect: ['SKU-021', 'SKU-022', 'SKU-023', 'SKU-024', 'SKU-025'],
    },
    {
      name: 'flags items at their reorder level as low stock',
      run: ({ stocked }) => stocked(7).lowStock(),
      expect: ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005'],
    },
    {
      name: 'does not flag items above their reorder level',
      run: ({ stocked }) => {
        const inv = stocked(7);
        inv.restock('SKU-005', 1);
        return inv.lowStock();
      },
      expect: ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004'],
    },
  ],
};
