// Module resolution hooks for environments loaded from files (src/envs/modules.ts), registered
// only in a thread that loads one. `gauntlet` resolves to the running copy's own public API (the
// object that thread publishes under a Symbol.for key), and `zod` imported from outside any package
// to our own zod: an environment module never gets a second copy of either, so its ToolError is
// the one the episode loop recognises and its schemas are the ones zod's checks know.
let apiUrl = '';
let zodParent = '';

export function initialize(data) {
  const api = `globalThis[Symbol.for(${JSON.stringify(data.key)})]`;
  const source = data.names.map((name) => `export const ${name} = ${api}[${JSON.stringify(name)}];`).join('\n');
  apiUrl = `data:text/javascript,${encodeURIComponent(source)}`;
  zodParent = data.zodParent;
}

/** A module of the author's (or ours), not a dependency that brought its own zod. */
const outsidePackages = (parentURL) => typeof parentURL === 'string' && !parentURL.includes('/node_modules/');

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'gauntlet') return { url: apiUrl, shortCircuit: true };
  if ((specifier === 'zod' || specifier.startsWith('zod/')) && outsidePackages(context.parentURL)) return nextResolve(specifier, { ...context, parentURL: zodParent });
  return nextResolve(specifier, context);
}
