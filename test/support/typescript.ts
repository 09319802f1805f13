// How a test starts another Node process on the project's TypeScript: through the hooks the suite
// itself runs under (scripts/ts-loader), about a second of CPU cheaper than tsx for each process
// that loads the command line.
import { fileURLToPath } from 'node:url';

export const TYPESCRIPT_NODE_ARGS: readonly string[] = ['--import', fileURLToPath(new URL('../../scripts/ts-loader/register.mjs', import.meta.url))];
