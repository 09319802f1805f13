// The statistics thread's first module: threads do not inherit the TypeScript loader the main
// thread registered, so it registers its own before loading the thread's code.
import { register } from 'tsx/esm/api';

register();
await import('./stats-thread.ts');
