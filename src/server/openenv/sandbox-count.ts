// Counts the sandboxes this server's episodes hold open, from the sandbox objects themselves: a
// sandbox counts from the moment the environment hands it to its seed until its own close()
// resolves, so a close that fails or never happens shows as a leak.
import type { Sandbox } from '../../core/index.ts';
import type { EnvironmentDefinition } from '../../envs/index.ts';

export interface SandboxCounter {
  /** The same environment, with each episode's sandbox counted. */
  definition: EnvironmentDefinition;
  live(): number;
}

/**
 * `instantiate` creates the sandbox and passes it to the definition's `seed` in the episode
 * context it later closes; wrapping `seed` is the one place this module can see it. (An
 * `onSandbox` hook in `InstantiateOptions` would make this wrapper unnecessary.) If that context
 * stopped being shared, closes would no longer be seen and the count would rise: a visible leak,
 * never a hidden one.
 */
export function countSandboxes(definition: EnvironmentDefinition): SandboxCounter {
  let live = 0;
  const counted = (sandbox: Sandbox): Sandbox => {
    live++;
    let closed = false;
    const close = async (): Promise<void> => {
      await sandbox.close();
      if (!closed) {
        closed = true;
        live--;
      }
    };
    return new Proxy(sandbox, {
      get(target, property) {
        if (property === 'close') return close;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  const seed = definition.seed;
  return {
    definition: {
      ...definition,
      seed: (ctx) => {
        if (ctx.sandbox) ctx.sandbox = counted(ctx.sandbox);
        return seed(ctx);
      },
    },
    live: () => live,
  };
}
