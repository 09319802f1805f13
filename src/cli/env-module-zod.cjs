/* global module */
// What `require('zod')` gives an environment module compiled to CommonJS (src/cli/env-modules.ts):
// the command line's own zod, so the module's schemas are the ones Gauntlet's checks know.
module.exports = globalThis[Symbol.for('gauntlet.zod')];
