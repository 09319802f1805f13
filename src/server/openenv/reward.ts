// Which reward an OpenEnv episode earns: the server's own (`--reward FILE`, for every session), else
// the default its environment declares, else the built-in one, as `gauntlet run` chooses. The
// server never sees the model, so only terms computed from the verifier and the tool calls can
// be used: a server reward with others is refused at start, an environment's default at reset.
import { errorMessage, InputError } from '../../core/index.ts';
import type { EnvironmentDefinition } from '../../envs/index.ts';
import { DEFAULT_REWARD_CONFIG, environmentRewardConfig, termsNeedingTheModel, type RewardConfig } from '../../reward/index.ts';

/** How a session's episodes are scored, or why they cannot be (said at reset, before the environment starts). */
export type EpisodeReward = { ok: true; config: RewardConfig } | { ok: false; problem: string };

export const BUILT_IN_REWARD: EpisodeReward = { ok: true, config: DEFAULT_REWARD_CONFIG };

const COMPUTABLE = 'terms computed from the verifier and the tool calls: outcome, verifier_checks, verifier.<key>, tool_errors, repeated_calls, useless_calls, turns, duration';

/** "term detector.x (why)" for each term the server cannot compute; empty when it can compute them all. */
function uncomputable(config: RewardConfig): string {
  const refused = termsNeedingTheModel(config);
  if (refused.length === 0) return '';
  const each = refused.map((t) => `${t.name} (${t.why})`).join(', ');
  return `term${refused.length > 1 ? 's' : ''} ${each} cannot be computed by the OpenEnv server, which never sees the model`;
}

/** The server's reward config, checked at start; an InputError at `reward` names each term it cannot compute. */
export function checkServerReward(config: RewardConfig): RewardConfig {
  const problem = uncomputable(config);
  if (problem) throw new InputError('reward', problem, COMPUTABLE);
  return config;
}

const declared = new WeakMap<EnvironmentDefinition, EpisodeReward>();

/** An episode's reward: the server's when it has one, else its environment's declared default, else the built-in one. */
export function episodeReward(definition: EnvironmentDefinition, server: RewardConfig | undefined): EpisodeReward {
  if (server) return { ok: true, config: server };
  if (definition.reward === undefined) return BUILT_IN_REWARD;
  let reward = declared.get(definition);
  if (!reward) {
    reward = ofEnvironment(definition);
    declared.set(definition, reward);
  }
  return reward;
}

function ofEnvironment(definition: EnvironmentDefinition): EpisodeReward {
  let config: RewardConfig | undefined;
  try {
    config = environmentRewardConfig([definition]);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { ok: false, problem: `environment ${definition.name} declares a default reward that is not valid: ${errorMessage(error)}` };
  }
  if (!config) return BUILT_IN_REWARD;
  const problem = uncomputable(config);
  if (!problem) return { ok: true, config };
  return { ok: false, problem: `environment ${definition.name} declares a default reward whose ${problem}; serve it with --reward FILE holding only ${COMPUTABLE}` };
}
