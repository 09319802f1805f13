// The external agents Gauntlet can run: each pinned to an exact npm version, with what it needs
// to be pointed at our gateway and kept offline. Facts per agent: shared/reference/external-agents.md.
import { stringify as tomlStringify } from 'smol-toml';
import { InputError } from '../../core/index.ts';

/** Which wire API an agent speaks; the gateway serves both under `/rollouts/ID/v1`. */
export type AgentWireApi = 'chat' | 'responses';

/** What an agent is told when it is set up for one rollout. */
export interface AgentSetup {
  /** OpenAI base URL as seen from inside the sandbox (ends in `/v1`). */
  baseUrl: string;
  /** The served model name to ask for. */
  model: string;
  /** The task's prompt, passed as the agent's command-line argument. */
  prompt: string;
}

/** How to launch an agent for one rollout: files in its throwaway HOME, environment, argv. */
export interface AgentLaunch {
  /** Paths relative to HOME -> content. */
  homeFiles: Record<string, string>;
  env: Record<string, string>;
  /** The program (a bin of the installed package) and its arguments. */
  bin: string;
  args: string[];
}

export interface AgentSpec {
  name: string;
  packageName: string;
  /** Exact version: installs are reproducible and cached by it. */
  version: string;
  wireApi: AgentWireApi;
  /** Its own shell tool: the name the model must call to run a command, and the argument it takes. */
  shellTool: { name: string; argument: string };
  launch(setup: AgentSetup): AgentLaunch;
}

/** The gateway ignores the key; agents refuse to start without one. */
const API_KEY_ENV = 'GAUNTLET_API_KEY';

const pi: AgentSpec = {
  name: 'pi',
  packageName: '@mariozechner/pi-coding-agent',
  version: '0.73.1',
  wireApi: 'chat',
  shellTool: { name: 'bash', argument: 'command' },
  launch: ({ baseUrl, model, prompt }) => ({
    homeFiles: {
      '.pi/agent/models.json': JSON.stringify(
        {
          providers: {
            gauntlet: {
              baseUrl,
              api: 'openai-completions',
              apiKey: API_KEY_ENV,
              // Plain engines (vLLM, SGLang) reject the developer role and reasoning_effort.
              compat: { supportsDeveloperRole: false, supportsReasoningEffort: false },
              models: [{ id: model }],
            },
          },
        },
        null,
        2,
      ),
    },
    env: { PI_OFFLINE: '1' },
    bin: 'pi',
    args: ['-p', '--provider', 'gauntlet', '--model', model, prompt],
  }),
};

const codex: AgentSpec = {
  name: 'codex',
  packageName: '@openai/codex',
  version: '0.171.0',
  // Codex refuses `wire_api = "chat"`; the gateway translates Responses to chat completions.
  wireApi: 'responses',
  shellTool: { name: 'exec_command', argument: 'cmd' },
  launch: ({ baseUrl, model, prompt }) => ({
    homeFiles: {
      '.codex/config.toml': tomlStringify({
        model,
        model_provider: 'gauntlet',
        // A hosted tool: only OpenAI's servers can run it, and the gateway refuses it.
        web_search: 'disabled',
        model_providers: { gauntlet: { name: 'gauntlet', base_url: baseUrl, env_key: API_KEY_ENV, wire_api: 'responses' } },
        // Otherwise it reaches out for metrics and plugin sync.
        analytics: { enabled: false },
        features: { plugins: false },
        // Sub-agent tools arrive as a `namespace` tool, which a chat-completions engine cannot serve.
        agents: { enabled: false },
      }),
    },
    env: {},
    bin: 'codex',
    // Its own sandbox is off: ours is outside it, and nested namespaces are refused in there.
    args: ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', prompt],
  }),
};

const qwen: AgentSpec = {
  name: 'qwen-code',
  packageName: '@qwen-code/qwen-code',
  version: '0.24.4',
  wireApi: 'chat',
  shellTool: { name: 'run_shell_command', argument: 'command' },
  launch: ({ baseUrl, model, prompt }) => ({
    homeFiles: {
      '.qwen/settings.json': JSON.stringify(
        { privacy: { usageStatisticsEnabled: false }, telemetry: { enabled: false }, general: { enableAutoUpdate: false } },
        null,
        2,
      ),
    },
    // Without NO_RELAUNCH it starts itself a second time (twice the start-up).
    env: { OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: 'gauntlet', OPENAI_MODEL: model, QWEN_CODE_NO_RELAUNCH: '1', QWEN_CODE_SUPPRESS_YOLO_WARNING: '1' },
    bin: 'qwen',
    args: ['--auth-type', 'openai', '-m', model, '--yolo', prompt],
  }),
};

// One native program (Bun-compiled): npm installs it as the optional dependency for this platform
// (`opencode-linux-x64` …), and the package's install script links it as the `opencode` bin.
const opencode: AgentSpec = {
  name: 'opencode',
  packageName: 'opencode-ai',
  version: '1.18.33',
  wireApi: 'chat',
  shellTool: { name: 'bash', argument: 'command' },
  launch: ({ baseUrl, model, prompt }) => ({
    homeFiles: {
      '.config/opencode/opencode.json': JSON.stringify(
        {
          $schema: 'https://opencode.ai/config.json',
          model: `gauntlet/${model}`,
          provider: {
            // Its provider SDKs for this package (and openai, anthropic, google …) are compiled into the
            // program; only a package outside that list would be fetched from npm at run time.
            gauntlet: { npm: '@ai-sdk/openai-compatible', name: 'gauntlet', options: { baseURL: baseUrl, apiKey: `{env:${API_KEY_ENV}}` }, models: { [model]: { name: model } } },
          },
          permission: { bash: 'allow', edit: 'allow' },
          autoupdate: false,
          share: 'disabled',
        },
        null,
        2,
      ),
    },
    // It still starts an npm install of `@opencode-ai/plugin` into ~/.config/opencode, detached from
    // the session: offline the name lookup fails at once, and the run neither waits for it nor fails.
    env: { OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_MODELS_FETCH: '1', OPENCODE_DISABLE_LSP_DOWNLOAD: '1' },
    bin: 'opencode',
    // The title flag saves a request the agent would otherwise make to name the session.
    args: ['run', '--title', 'gauntlet', prompt],
  }),
};

/** Every agent Gauntlet knows, by name. */
export const AGENTS: Readonly<Record<string, AgentSpec>> = { pi, codex, 'qwen-code': qwen, opencode };

/** Agents the offline tests drive end to end: all of them. */
export const TESTED_AGENTS = ['pi', 'qwen-code', 'codex', 'opencode'] as const;

export function agentSpec(name: string): AgentSpec {
  const spec = AGENTS[name];
  if (!spec) throw new InputError('agent', `"${name}" is not a known external agent`, `one of ${Object.keys(AGENTS).join(', ')}`);
  return spec;
}

export function agentLaunchEnv(): Record<string, string> {
  return { [API_KEY_ENV]: 'gauntlet' };
}
