// Each built-in environment registers itself here: one import and one register line each.
// Environment folders import from '../define.ts', '../checks.ts', '../state.ts' (never '../index.ts'),
// so this file can import them without cycles.
import { registerEnvironment } from './registry.ts';
import { notes } from './notes/index.ts';
import { calendar } from './calendar/index.ts';
import { mail } from './mail/index.ts';
import { terminal } from './terminal/index.ts';
import { coding } from './coding/index.ts';
import { qa } from './qa/index.ts';
import { workplace } from './workplace/index.ts';
import { probes } from './probes/index.ts';
import { harbor } from './interop/harbor-env.ts';

void registerEnvironment;
registerEnvironment('notes', () => notes);
registerEnvironment('mail', () => mail);
registerEnvironment('terminal', () => terminal);
registerEnvironment('calendar', () => calendar);
registerEnvironment('coding', () => coding);
registerEnvironment('qa', () => qa);
registerEnvironment('workplace', () => workplace);
registerEnvironment('harbor', () => harbor);
registerEnvironment('probes', () => probes);
