/* global module */
// What `require('gauntlet')` gives an environment module compiled to CommonJS (src/cli/env-modules.ts):
// the running command line's own public API, never a second copy.
module.exports = globalThis[Symbol.for('gauntlet.public-api')];
