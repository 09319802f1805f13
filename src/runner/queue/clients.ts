// A worker builds model clients from each job's config with its own API keys, and shares them
// between the jobs whose configs build the same clients (a text-tools client loads a template and
// a tokenizer: not once per rollout). Unused clients are closed after a while.
import { stableStringify, type ModelClient, type RunConfig } from '../../core/index.ts';
import { judgeFromConfig, modelFromConfig, rubricJudgesFromConfig, userFromConfig, type ModelEnvironment } from '../model.ts';

export interface ClientLease {
  model: ModelClient;
  judge?: ModelClient;
  /** The judges rubric terms name themselves, by spec. */
  judges?: ReadonlyMap<string, ModelClient>;
  /** Plays the simulated user when the run names a user model. */
  user?: ModelClient;
  release(): void;
}

interface Entry {
  built: Promise<{ model: ModelClient; judge?: ModelClient; judges?: ReadonlyMap<string, ModelClient>; user?: ModelClient }>;
  refs: number;
  idle?: NodeJS.Timeout;
}

/** The settings the client builders read (the reward for its rubric judges): equal settings, interchangeable clients. */
function clientKey(config: RunConfig): string {
  return stableStringify({ model: config.model, modelOptions: config.modelOptions, scaffold: config.scaffold, seed: config.seed, judge: config.judge ?? null, user: config.user ?? null, reward: config.reward ?? null, rewards: config.rewards ?? null });
}

async function closeClients(built: Entry['built']): Promise<void> {
  const clients = await built.catch(() => null);
  if (!clients) return;
  await Promise.all([clients.model.close?.(), clients.judge?.close?.(), clients.user?.close?.(), ...[...(clients.judges?.values() ?? [])].map((j) => j.close?.())]);
}

export class ModelClients {
  private readonly entries = new Map<string, Entry>();
  private readonly environment: ModelEnvironment;
  private readonly idleMs: number;

  constructor(options: { environment: ModelEnvironment; idleMs?: number }) {
    this.environment = options.environment;
    this.idleMs = options.idleMs ?? 60_000;
  }

  /** The clients for `config`; a failure to build them (a missing key here) is thrown, and retried by the next job. */
  async acquire(config: RunConfig): Promise<ClientLease> {
    const key = clientKey(config);
    let entry = this.entries.get(key);
    if (!entry) {
      const built = (async () => {
        const model = await modelFromConfig(config, this.environment);
        const judge = await judgeFromConfig(config, this.environment);
        const user = await userFromConfig(config, this.environment);
        const judges = await rubricJudgesFromConfig(config, this.environment);
        return { model, ...(judge ? { judge } : {}), ...(judges.size > 0 ? { judges } : {}), ...(user ? { user } : {}) };
      })();
      entry = { built, refs: 0 };
      this.entries.set(key, entry);
      built.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    }
    clearTimeout(entry.idle);
    entry.refs++;
    const held = entry;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs > 0) return;
      held.idle = setTimeout(() => {
        if (held.refs > 0 || this.entries.get(key) !== held) return;
        this.entries.delete(key);
        void closeClients(held.built);
      }, this.idleMs);
      held.idle.unref();
    };
    try {
      const clients = await held.built;
      return { ...clients, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  async close(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) clearTimeout(entry.idle);
    await Promise.all(entries.map((e) => closeClients(e.built)));
  }
}
