// The repo's own tests (test/retry.test.js), judged in the grader: run in the sandbox, they could be
// patched or rewritten by the code they test.
export default {
  imports: { retry: 'src/retry.js#retry' },
  cases: [
    {
      name: 'returns the first success',
      run: async ({ retry }) => {
        const waits = [];
        let calls = 0;
        const value = await retry(
          async () => {
            calls += 1;
            if (calls < 3) throw new Error('flaky');
            return 'ok';
          },
          { sleep: async (ms) => waits.push(ms) },
        );
        return { value, waits };
      },
      expect: { value: 'ok', waits: [100, 200] },
    },
    {
      name: 'throws the last error after the retries',
      run: async ({ retry }) => {
        let calls = 0;
        return retry(
          async () => {
            calls += 1;
            throw new Error(`fail ${calls}`);
          },
          { retries: 2, sleep: async () => {} },
        );
      },
      throws: /fail 3/,
    },
  ],
};
