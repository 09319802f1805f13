// In-memory stock keeping: items by SKU with quantities and reorder levels.

export class Inventory {
  #items = new Map();

  add(sku, { name, quantity = 0, reorderLevel = 0 }) {
    if (this.#items.has(sku)) throw new Error(`duplicate sku ${sku}`);
    if (!Number.isInteger(quantity) || quantity < 0) throw new Error(`quantity must be a non-negative integer, got ${quantity}`);
    this.#items.set(sku, { sku, name, quantity, reorderLevel });
  }

  get(sku) {
    const item = this.#items.get(sku);
    return item ? { ...item } : undefined;
  }

  take(sku, quantity) {
    const item = this.#require(sku);
    if (quantity > item.quantity) throw new Error(`only ${item.quantity} of ${sku} in stock`);
    item.quantity -= quantity;
    return item.quantity;
  }

  restock(sku, quantity) {
    const item = this.#require(sku);
    item.quantity += quantity;
    return item.quantity;
  }

  /** One page of items sorted by SKU; pages start at 1. */
  list({ page = 1, pageSize = 10 } = {}) {
    const all = [...this.#items.values()].sort((a, b) => a.sku.localeCompare(b.sku));
    const start = (page - 1) * pageSize;
    return {
      items: all.slice(start, start + pageSize).map((item) => ({ ...item })),
      page,
      totalPages: Math.floor(all.length / pageSize),
    };
  }

  /** Items that need reordering. */
  lowStock() {
    return [...this.#items.values()].filter((item) => item.quantity < item.reorderLevel).map((item) => item.sku);
  }

  #require(sku) {
    const item = this.#items.get(sku);
    if (!item) throw new Error(`unknown sku ${sku}`);
    return item;
  }
}
