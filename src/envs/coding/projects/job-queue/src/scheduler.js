// Runs queued jobs by priority.
import { MinHeap } from './heap.js';

export class Scheduler {
  #heap = new MinHeap((a, b) => b.priority - a.priority);

  add(name, priority = 0) {
    this.#heap.push({ name, priority });
  }

  get pending() {
    return this.#heap.size;
  }

  /** Names of every job in the order they run. */
  drain() {
    const order = [];
    while (this.#heap.size > 0) order.push(this.#heap.pop().name);
    return order;
  }
}
