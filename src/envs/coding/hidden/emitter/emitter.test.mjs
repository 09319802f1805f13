// Hidden suite for coding/emitter-once-off. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { Emitter: 'src/emitter.js#Emitter' },
  cases: [
    {
      name: 'removes a once listener with the original function',
      run: ({ Emitter }) => {
        const e = new Emitter();
        let count = 0;
        const listener = () => count++;
        e.once('x', listener);
        e.off('x', listener);
        return { listeners: e.listenerCount('x'), emitted: e.emit('x'), count };
      },
      expect: { listeners: 0, emitted: false, count: 0 },
    },
    {
      name: 'calls every listener even when a once listener removes itself',
      run: ({ Emitter }) => {
        const e = new Emitter();
        const seen = [];
        e.once('x', () => seen.push('first'));
        e.on('x', () => seen.push('second'));
        e.on('x', () => seen.push('third'));
        e.emit('x');
        return seen;
      },
      expect: ['first', 'second', 'third'],
    },
    {
      name: 'a listener added during emit runs on the next emit only',
      run: ({ Emitter }) => {
        const e = new Emitter();
        const seen = [];
        e.on('x', () => {
          seen.push('a');
          e.on('x', () => seen.push('late'));
        });
        e.emit('x');
        return seen;
      },
      expect: ['a'],
    },
    {
      name: 'a listener removed during emit still runs in that emit',
      run: ({ Emitter }) => {
        const e = new Emitter();
        const seen = [];
        const b = () => seen.push('b');
        e.on('x', () => {
          seen.push('a');
          e.off('x', b);
        });
        e.on('x', b);
        e.emit('x');
        e.emit('x');
        return seen;
      },
      expect: ['a', 'b', 'a'],
    },
    {
      name: 'passes this and arguments to once listeners',
      run: ({ Emitter }) => {
        const e = new Emitter();
        let got;
        e.once('x', function (...args) {
          got = { self: this, args };
        });
        e.emit('x', 1, 'two');
        return { called: got !== undefined, thisIsEmitter: got?.self === e, args: got?.args };
      },
      expect: { called: true, thisIsEmitter: true, args: [1, 'two'] },
    },
  ],
};
