import type { Store } from '../../core/index.ts';
import type { SandboxBackend } from '../../sandbox/index.ts';

/** What every route reads: the store, where reports and authored tasks live, the clock. */
export interface ApiContext {
  store: Store;
  /** Folder of eval, compare and robustness JSON reports (`reports/` beside the store by default). */
  reportsDir: string;
  /** Folder authored tasks are saved under (`tasks/` beside the store by default). */
  tasksDir: string;
  /** Sandbox for replaying an authored task's golden solution. */
  sandbox: SandboxBackend;
  now: () => Date;
  log?: (line: string) => void;
  /** Set when the store is served only to read: why (a read-only file or directory, --read-only, an older schema left as it is). */
  readOnly?: ReadOnlyStore;
}

export interface ReadOnlyStore {
  /** In a sentence, for the viewer's notice and every refused write. */
  reason: string;
}
