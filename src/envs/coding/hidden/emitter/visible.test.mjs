// The repo's own tests (test/emitter.test.js), judged in the grader: run in the sandbox, they could
// be patched or rewritten by the code they test.
export default {
  imports: { Emitter: 'src/emitter.js#Emitter' },
  cases: [
    {
      name: 'calls listeners with the arguments',
      run: ({ Emitter }) => {
        const e = new Emitter();
        const seen = [];
        e.on('x', (a, b) => seen.push(a + b));
        return [e.emit('x', 1, 2), seen];
      },
      expect: [true, [3]],
    },
    {
      name: 'once fires a single time',
      run: ({ Emitter }) => {
        const e = new Emitter();
        let count = 0;
        e.once('x', () => count++);
        e.emit('x');
        e.emit('x');
        return count;
      },
      expect: 1,
    },
  ],
};
