// The two task-config layouts, read into one shape: Harbor / Terminal-Bench 2 `task.toml` and the
// older Terminal-Bench 1 `task.yaml`. Only the fields an offline import uses are typed; the rest
// is kept loose so newer fields do not break the import.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { describeZodIssues, InputError, parseInputText } from '../../core/index.ts';
import { TaskFolder } from './task-files.ts';

export type Layout = 'harbor' | 'terminal-bench-1';

/** Harbor's resource defaults (task.toml [environment]). */
const DEFAULT_MEMORY_MB = 2048;
const DEFAULT_STORAGE_MB = 10240;

/** A task folder's configuration, whichever layout it came in. */
export interface TaskConfig {
  layout: Layout;
  /** The task's own name, kept as its id: `org/name` from [task] when given, else the folder's name. */
  name: string;
  /** The full name the config gives (`org/name`), when it gives one. */
  fullName: string | undefined;
  schemaVersion: string;
  instruction: string;
  difficulty: string | undefined;
  category: string | undefined;
  labels: string[];
  agentTimeoutSec: number | undefined;
  verifierTimeoutSec: number;
  buildTimeoutSec: number;
  verifierEnv: Record<string, string>;
  solutionEnv: Record<string, string>;
  memoryMb: number;
  storageMb: number;
  /** Build context and Dockerfile (null when the task ships none). */
  context: string;
  dockerfile: string | null;
  dockerImage: string | undefined;
  workdir: string | undefined;
  gpus: number;
  /** Reasons found in the config that the task cannot run offline. */
  problems: string[];
  /** Config the import does not apply, noted for the reader. */
  notes: string[];
  metadata: Record<string, unknown>;
}

const Strings = z.array(z.string()).default([]);
const Seconds = z.number().positive();
const Env = z.record(z.string(), z.string()).default({});

/** The deprecated `memory = "2G"` / `storage = "10G"` form, in MB. */
const Size = z.string().regex(/^\d+(\.\d+)?\s*[KMGT]i?B?$/i, 'a size such as "2G" or "512M"').transform((text) => {
  const [, number, unit] = /^(\d+(?:\.\d+)?)\s*([KMGT])/i.exec(text)!;
  const scale = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[unit!.toUpperCase() as 'K' | 'M' | 'G' | 'T'];
  return Number(number) * scale;
});

const HarborToml = z
  .object({
    schema_version: z.string().optional(),
    version: z.string().optional(),
    task: z.object({ name: z.string().min(1), description: z.string().optional(), keywords: Strings }).loose().optional(),
    metadata: z
      .object({ difficulty: z.string().optional(), category: z.string().optional(), tags: Strings })
      .loose()
      .default({ tags: [] }),
    verifier: z.object({ timeout_sec: Seconds.default(600), env: Env }).loose().default({ timeout_sec: 600, env: {} }),
    agent: z.object({ timeout_sec: Seconds.optional() }).loose().default({}),
    solution: z.object({ env: Env }).loose().default({ env: {} }),
    environment: z
      .object({
        docker_image: z.string().optional(),
        workdir: z.string().startsWith('/', 'an absolute path').optional(),
        gpus: z.number().int().nonnegative().default(0),
        build_timeout_sec: Seconds.default(600),
        memory_mb: z.number().positive().optional(),
        storage_mb: z.number().positive().optional(),
        memory: Size.optional(),
        storage: Size.optional(),
        mcp_servers: z.array(z.unknown()).optional(),
        env: z.record(z.string(), z.unknown()).optional(),
      })
      .loose()
      .default({ gpus: 0, build_timeout_sec: 600 }),
    steps: z.array(z.unknown()).optional(),
  })
  .loose()
  .refine((c) => c.schema_version !== undefined || c.version !== undefined, { message: 'expected schema_version = "1.1" (or the legacy version = "1.0") at the top level' });

const Tb1Yaml = z
  .object({
    instruction: z.string().optional(),
    descriptions: z.array(z.object({ key: z.string().optional(), description: z.string() }).loose()).optional(),
    difficulty: z.string().optional(),
    category: z.string().optional(),
    tags: Strings,
    max_agent_timeout_sec: Seconds.optional(),
    max_test_timeout_sec: Seconds.optional(),
    author_name: z.string().optional(),
    author_email: z.string().optional(),
    parser_name: z.string().optional(),
  })
  .loose();

function readRequired(files: TaskFolder, path: string, what: string): string {
  try {
    return files.text(path);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(path, `cannot read ${what}: ${error.problem}`, error.expected);
    throw error;
  }
}

function parseWith<S extends z.ZodType>(schema: S, data: unknown, where: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new InputError(where, `invalid task config\n${describeZodIssues(result.error.issues)}`);
}

function readHarbor(dir: string, files: TaskFolder): TaskConfig {
  const where = join(dir, 'task.toml');
  let data: unknown;
  try {
    data = parseToml(readRequired(files, where, 'the task config'));
  } catch (error) {
    if (error instanceof TomlError) throw new InputError(`${where}:${error.line}`, `not valid TOML: ${error.message.split('\n')[0]}`);
    throw error;
  }
  const toml = parseWith(HarborToml, data, where);
  const instructionPath = join(dir, 'instruction.md');
  if (!existsSync(instructionPath)) throw new InputError(dir, 'no instruction.md', 'instruction.md beside task.toml (the prompt given to the agent)');
  const problems: string[] = [];
  const notes: string[] = [];
  if (toml.steps && toml.steps.length > 0) problems.push(`${where}: [[steps]] (a multi-step task) is not supported; only single-step tasks import`);
  if (toml.environment.mcp_servers?.length) notes.push(`${where}: environment.mcp_servers not started (connect them with \`gauntlet mcp\` tools separately)`);
  if (toml.environment.env && Object.keys(toml.environment.env).length > 0) notes.push(`${where}: environment.env not set in the sandbox: ${Object.keys(toml.environment.env).join(', ')}`);
  const dockerfile = join(dir, 'environment', 'Dockerfile');
  const fullName = toml.task?.name;
  return {
    layout: 'harbor',
    name: fullName ?? basename(dir),
    fullName,
    schemaVersion: toml.schema_version ?? toml.version ?? '',
    instruction: readRequired(files, instructionPath, 'the instruction'),
    difficulty: toml.metadata.difficulty,
    category: toml.metadata.category,
    labels: [...(toml.task?.keywords ?? []), ...toml.metadata.tags],
    agentTimeoutSec: toml.agent.timeout_sec,
    verifierTimeoutSec: toml.verifier.timeout_sec,
    buildTimeoutSec: toml.environment.build_timeout_sec,
    verifierEnv: toml.verifier.env,
    solutionEnv: toml.solution.env,
    memoryMb: toml.environment.memory_mb ?? toml.environment.memory ?? DEFAULT_MEMORY_MB,
    storageMb: toml.environment.storage_mb ?? toml.environment.storage ?? DEFAULT_STORAGE_MB,
    context: join(dir, 'environment'),
    dockerfile: existsSync(dockerfile) ? dockerfile : null,
    dockerImage: toml.environment.docker_image,
    workdir: toml.environment.workdir,
    gpus: toml.environment.gpus,
    problems,
    notes,
    metadata: {
      ...Object.fromEntries(Object.entries(toml.metadata).filter(([key, value]) => !(key === 'tags' && Array.isArray(value) && value.length === 0))),
      ...(toml.task?.description ? { description: toml.task.description } : {}),
    },
  };
}

function readTerminalBench1(dir: string, files: TaskFolder): TaskConfig {
  const where = join(dir, 'task.yaml');
  const data = parseInputText(readRequired(files, where, 'the task config'), where).value;
  const yaml = parseWith(Tb1Yaml, data, where);
  const instruction = yaml.instruction ?? yaml.descriptions?.find((d) => d.key === 'base')?.description ?? yaml.descriptions?.[0]?.description;
  if (!instruction?.trim()) throw new InputError(where, 'field instruction: missing', 'the task prompt as `instruction: |` text');
  const problems: string[] = [];
  for (const compose of ['docker-compose.yaml', 'docker-compose.yml']) {
    const path = join(dir, compose);
    if (!existsSync(path)) continue;
    const composed = parseInputText(readRequired(files, path, 'the compose file'), path, { foreign: true }).value;
    const declared = composed !== null && typeof composed === 'object' ? (composed as { services?: unknown }).services : undefined;
    if (declared !== undefined && declared !== null && (typeof declared !== 'object' || Array.isArray(declared))) {
      throw new InputError(path, 'field services: not a mapping', 'services: {name: {...}}');
    }
    const services = Object.keys(declared ?? {});
    if (services.length > 1) problems.push(`${path}: the task runs ${services.length} services (${services.join(', ')}); only single-container tasks can run in a sandbox`);
  }
  const dockerfile = join(dir, 'Dockerfile');
  return {
    layout: 'terminal-bench-1',
    name: basename(dir),
    fullName: undefined,
    schemaVersion: 'terminal-bench-1',
    instruction,
    difficulty: yaml.difficulty,
    category: yaml.category,
    labels: yaml.tags,
    agentTimeoutSec: yaml.max_agent_timeout_sec,
    verifierTimeoutSec: yaml.max_test_timeout_sec ?? 180,
    buildTimeoutSec: 600,
    verifierEnv: {},
    solutionEnv: {},
    memoryMb: DEFAULT_MEMORY_MB,
    storageMb: DEFAULT_STORAGE_MB,
    context: dir,
    dockerfile: existsSync(dockerfile) ? dockerfile : null,
    dockerImage: undefined,
    workdir: undefined,
    gpus: 0,
    problems,
    notes: yaml.parser_name && yaml.parser_name !== 'pytest' ? [`${where}: parser_name ${yaml.parser_name} not applied; the tests' exit status and failures decide`] : [],
    metadata: Object.fromEntries(Object.entries({ author_name: yaml.author_name, author_email: yaml.author_email }).filter(([, v]) => v !== undefined)),
  };
}

/** The folder's config in whichever layout it has; an InputError when it has neither. */
export function readTaskConfig(dir: string, files: TaskFolder = new TaskFolder(dir)): TaskConfig {
  if (existsSync(join(dir, 'task.toml'))) return readHarbor(dir, files);
  if (existsSync(join(dir, 'task.yaml'))) return readTerminalBench1(dir, files);
  throw new InputError(dir, 'not a task folder', 'task.toml (Harbor / Terminal-Bench 2) or task.yaml (Terminal-Bench 1)');
}
