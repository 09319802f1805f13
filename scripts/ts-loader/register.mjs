// `node --import ./scripts/ts-loader/register.mjs file.ts` runs the project's TypeScript the way
// tsx does, for the test suite, where hundreds of processes each load most of the sources: tsx
// resolves and loads every module through its own hooks (about 2.6 s of CPU to load src/index.ts
// on a 2-core machine), these hooks only load, from a compiled cache (about 1.7 s). Stack traces
// name the TypeScript lines, as under tsx.
import { register } from 'node:module';

process.setSourceMapsEnabled(true);
register('./hooks.mjs', import.meta.url);
