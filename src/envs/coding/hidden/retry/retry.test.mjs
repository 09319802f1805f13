// Hidden suite for coding/retry-options. Each probe runs in the sandbox and returns a value; the
// expectation beside it stays in the grader.
export default {
  imports: { retry: 'src/retry.js#retry', http: 'src/http.js' },
  setup: () => ({
    failing(times, value = 'done') {
      let calls = 0;
      return async () => {
        calls += 1;
        if (calls <= times) throw new Error(`fail ${calls}`);
        return value;
      };
    },
  }),
  cases: [
    {
      name: 'caps each wait at maxDelayMs',
      run: async ({ retry, failing }) => {
        const waits = [];
        await retry(failing(5), { retries: 5, baseDelayMs: 100, maxDelayMs: 500, sleep: async (ms) => waits.push(ms) });
        return waits;
      },
      expect: [100, 200, 400, 500, 500],
    },
    {
      name: 'does not cap without maxDelayMs',
      run: async ({ retry, failing }) => {
        const waits = [];
        await retry(failing(4), { retries: 4, baseDelayMs: 10, sleep: async (ms) => waits.push(ms) });
        return waits;
      },
      expect: [10, 20, 40, 80],
    },
    {
      name: 'stops at once when shouldRetry says no',
      run: async ({ retry }) => {
        const seen = [];
        let calls = 0;
        const fn = async () => {
          calls += 1;
          throw new Error(calls === 1 ? 'temporary' : 'fatal');
        };
        let rejected = null;
        try {
          await retry(fn, { retries: 5, sleep: async () => {}, shouldRetry: (error, attempt) => (seen.push([error.message, attempt]), error.message !== 'fatal') });
        } catch (error) {
          rejected = error.message;
        }
        return { rejected, calls, seen };
      },
      check: ({ rejected, calls, seen }, assert) => {
        assert.match(String(rejected), /fatal/);
        assert.deepEqual({ calls, seen }, { calls: 2, seen: [['temporary', 1], ['fatal', 2]] });
      },
    },
    {
      name: 'reports each retry to onRetry before waiting',
      run: async ({ retry, failing }) => {
        const events = [];
        await retry(failing(2), {
          baseDelayMs: 50,
          sleep: async (ms) => events.push(`sleep ${ms}`),
          onRetry: (error, attempt, delayMs) => events.push(`retry ${attempt} ${delayMs} ${error.message}`),
        });
        return events;
      },
      expect: ['retry 1 50 fail 1', 'sleep 50', 'retry 2 100 fail 2', 'sleep 100'],
    },
    {
      name: 'does not call onRetry when the attempts run out',
      run: async ({ retry, failing }) => {
        const retried = [];
        let rejected = null;
        try {
          await retry(failing(9), { retries: 1, sleep: async () => {}, onRetry: (_e, attempt) => retried.push(attempt) });
        } catch (error) {
          rejected = error.message;
        }
        return { rejected, retried };
      },
      check: ({ rejected, retried }, assert) => {
        assert.match(String(rejected), /fail 2/);
        assert.deepEqual(retried, [1]);
      },
    },
    {
      name: 'retries server errors but not client errors',
      run: async ({ http }) => {
        const statuses = [503, 404];
        let calls = 0;
        const fetch = async () => {
          const status = statuses[calls++];
          return { ok: false, status, json: async () => ({}) };
        };
        let rejected = null;
        try {
          await http.getJson('/x', { fetch, sleep: async () => {} });
        } catch (error) {
          rejected = { isHttpError: error instanceof http.HttpError, status: error.status };
        }
        return { rejected, calls };
      },
      expect: { rejected: { isHttpError: true, status: 404 }, calls: 2 },
    },
    {
      name: 'retries server errors until success',
      run: async ({ http }) => {
        let calls = 0;
        const fetch = async () => (++calls < 3 ? { ok: false, status: 500, json: async () => ({}) } : { ok: true, status: 200, json: async () => ({ ok: 1 }) });
        return http.getJson('/x', { fetch, sleep: async () => {} });
      },
      expect: { ok: 1 },
    },
  ],
};
