// The repo's own tests (test/inventory.test.js), judged in the grader: run in the sandbox, they
// could be patched or rewritten by the code they test.
export default {
  imports: { Inventory: 'src/inventory.js#Inventory' },
  setup: ({ Inventory }) => ({
    stocked(count) {
      const inv = new Inventory();
      for (let i = 1; i <= count; i++) inv.add(`SKU-${String(i).padStart(3, '0')}`, { name: `item ${i}`, quantity: i, reorderLevel: 5 });
      return inv;
    },
  }),
  cases: [
    {
      name: 'adds and takes stock',
      run: ({ stocked }) => {
        const inv = stocked(3);
        return inv.take('SKU-003', 2);
      },
      expect: 1,
    },
    { name: 'refuses to take more than there is', run: ({ stocked }) => stocked(3).take('SKU-001', 2), throws: /only 1/ },
    {
      name: 'lists the first page sorted by sku',
      run: ({ stocked }) => {
        const { items, page } = stocked(12).list({ page: 1, pageSize: 5 });
        return { page, skus: items.map((i) => i.sku) };
      },
      expect: { page: 1, skus: ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005'] },
    },
  ],
};
