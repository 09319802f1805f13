import type { Command } from 'commander';
import { z } from 'zod';
import { ModelCall, Rollout, RunConfig, Task } from '../../core/index.ts';
import { Script } from '../../model/index.ts';
import { printJson, type CliIo } from '../io.ts';
import { oneOf } from '../options.ts';

/** The published JSON Schemas of what people write (tasks, run configs) and what we store. */
export const PUBLISHED_SCHEMAS = {
  task: { schema: Task, io: 'input' as const, title: 'Gauntlet task' },
  'run-config': { schema: RunConfig, io: 'input' as const, title: 'Gauntlet run configuration' },
  rollout: { schema: Rollout, io: 'output' as const, title: 'Gauntlet rollout record' },
  'model-call': { schema: ModelCall, io: 'output' as const, title: 'Gauntlet model call record' },
  script: { schema: Script, io: 'input' as const, title: 'Gauntlet model script (scripted:PATH, mock-model and fake-engine --script)' },
};
export type SchemaName = keyof typeof PUBLISHED_SCHEMAS;

export function jsonSchemaFor(name: SchemaName): Record<string, unknown> {
  const { schema, io, title } = PUBLISHED_SCHEMAS[name];
  return { title, ...(z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>) };
}

export function registerSchemaCommand(program: Command, io: CliIo): void {
  const names = Object.keys(PUBLISHED_SCHEMAS) as SchemaName[];
  program
    .command('schema')
    .description('Print the JSON Schema of a task file, run config, model script or stored record (also under schemas/)')
    .argument('<name>', names.join(' | '), oneOf('NAME', names))
    .action((name: SchemaName) => printJson(io, jsonSchemaFor(name)));
}
