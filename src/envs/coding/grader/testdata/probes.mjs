// Probe suites for run.test.ts: code under test that misbehaves in every way the runner must survive.

export const moduleSource = `
export const f = () => 1;
export const hang = () => { for (;;) {} };
export const exit = () => process.exit(0);
export const later = () => { Promise.reject(new Error('late')); return 'returned'; };
export const noisy = () => { for (let i = 0; i < 500; i++) console.log('@@gauntlet-probe: noise'); return 'quiet'; };
`;

export const resilient = {
  imports: { m: 'src/m.js' },
  cases: [
    { name: 'hangs', run: ({ m }) => m.hang(), expect: 1 },
    { name: 'after a hang', run: ({ m }) => m.f(), expect: 1 },
    { name: 'exits', run: ({ m }) => m.exit(), expect: 1 },
    { name: 'after an exit', run: ({ m }) => m.f(), expect: 1 },
    { name: 'rejects later', run: ({ m }) => m.later(), expect: 'returned' },
    { name: 'after a late rejection', run: ({ m }) => m.f(), expect: 1 },
    { name: 'prints to its console', run: ({ m }) => m.noisy(), expect: 'quiet' },
  ],
};

export const broken = {
  imports: { b: 'src/broken.js' },
  cases: [{ name: 'imports a module that does not parse', run: ({ b }) => b.x, expect: 1 }],
};
