// A least-recently-used cache on top of Map, whose iteration order is insertion order:
// the first key is the least recently used one.

export class LRUCache {
  #max;
  #map = new Map();

  constructor(max) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
    this.#max = max;
  }

  get size() {
    return this.#map.size;
  }

  has(key) {
    return this.#map.has(key);
  }

  get(key) {
    return this.#map.get(key);
  }

  peek(key) {
    return this.#map.get(key);
  }

  set(key, value) {
    if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next().value;
      this.#map.delete(oldest);
    }
    this.#map.set(key, value);
    return this;
  }

  delete(key) {
    return this.#map.delete(key);
  }

  clear() {
    this.#map.clear();
  }

  /** Keys from least to most recently used. */
  keys() {
    return [...this.#map.keys()];
  }
}
