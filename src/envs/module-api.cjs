/* global module */
// What `require('gauntlet')` gives an environment module compiled to CommonJS (src/envs/modules.ts):
// the running copy's own public API, never a second copy.
module.exports = globalThis[Symbol.for('gauntlet.public-api')];
