// A token bucket with an injectable clock (milliseconds).

export class TokenBucket {
  #tokens;
  #last;

  constructor({ capacity, refillPerSecond, now = () => Date.now() }) {
    if (!(capacity > 0) || !(refillPerSecond > 0)) throw new RangeError('capacity and refillPerSecond must be positive');
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.now = now;
    this.#tokens = capacity;
    this.#last = now();
  }

  #refill() {
    const current = this.now();
    const elapsedSeconds = Math.floor((current - this.#last) / 1000);
    this.#tokens += elapsedSeconds * this.refillPerSecond;
    this.#last = current;
  }

  available() {
    this.#refill();
    return this.#tokens;
  }

  tryTake(n = 1) {
    this.#refill();
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }
}
