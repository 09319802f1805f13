// What `gauntlet run --agent NAME` needs before its first rollout: the agent installed, a gateway
// in front of the model, and the driver that plays each episode with them.
import { InputError, type RunConfig } from '../../core/index.ts';
import { parseModelSpec } from '../../model/index.ts';
import type { EpisodeDriver } from '../../runner/index.ts';
import { startGateway } from '../gateway/index.ts';
import { agentSpec } from './catalogue.ts';
import { externalAgentDriver } from './driver.ts';
import { agentInstallDir, defaultAgentCache, ensureAgentInstalled } from './install.ts';

export interface AgentRunOptions {
  agent: NonNullable<RunConfig['agent']>;
  /** The run's model spec: `openai:BASE_URL#MODEL`, the gateway's upstream. */
  model: string;
  cacheDir?: string;
  /** Sent upstream as a Bearer token (the engine's key; the agent never sees it). */
  apiKey?: string;
  log?: (line: string) => void;
}

export interface AgentRun {
  driver: EpisodeDriver;
  /** The gateway's address, for logs. */
  gatewayUrl: string;
  close(): Promise<void>;
}

/** Installs the agent if needed and starts a loopback gateway in front of the model; `close` stops the gateway. */
export async function startAgentRun(options: AgentRunOptions): Promise<AgentRun> {
  const spec = agentSpec(options.agent.name);
  if (options.agent.version !== spec.version) {
    // Its configuration files and offline settings were checked for the pinned version only.
    throw new InputError('agent.version', `${spec.name} ${options.agent.version} is not the version Gauntlet runs`, spec.version);
  }
  const model = parseModelSpec(options.model);
  if (model.kind !== 'openai') throw new InputError('model', `external agents reach the model through a gateway in front of an OpenAI-style endpoint, got "${options.model}"`, 'openai:BASE_URL#MODEL');
  const cacheDir = options.cacheDir ?? defaultAgentCache();
  options.log?.(`agent ${spec.name}: ${spec.packageName}@${spec.version} in ${agentInstallDir(spec, cacheDir)}`);
  const installed = await ensureAgentInstalled(spec, { cacheDir });
  if (installed.installed) options.log?.(`agent ${spec.name}: installed in ${((installed.installMs ?? 0) / 1000).toFixed(1)} s`);
  const gateway = await startGateway({ upstream: model.baseUrl, host: '127.0.0.1', port: 0, ...(options.apiKey ? { apiKey: options.apiKey } : {}) });
  return {
    driver: externalAgentDriver({ agent: installed, gateway, model: model.model }),
    gatewayUrl: gateway.url,
    close: () => gateway.close(),
  };
}
