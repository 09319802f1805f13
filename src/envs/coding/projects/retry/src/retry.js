// Retrying async work with exponential backoff.

const defaultSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function retry(fn, { retries = 3, baseDelayMs = 100, sleep = defaultSleep } = {}) {
  let attempt = 0;
  while (true) {
    attempt += 1;
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt > retries) throw error;
      await sleep(baseDelayMs * 2 ** (attempt - 1));
    }
  }
}
