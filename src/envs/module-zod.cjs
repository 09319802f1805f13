/* global module */
// What `require('zod')` gives an environment module compiled to CommonJS (src/envs/modules.ts):
// our own zod, so the module's schemas are the ones Gauntlet's checks know.
module.exports = globalThis[Symbol.for('gauntlet.zod')];
