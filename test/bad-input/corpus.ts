// The bad-input corpus: YAML files under corpus/, one kind of input each, validated here so a
// malformed corpus entry is itself reported by file and index rather than skipped.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const Common = { name: z.string().min(1), todo: z.string().optional() };
/** A regular expression (source) the message must match; absent only on `todo` cases. */
const Expect = z.string().min(1);

export const CliCase = z.strictObject({ ...Common, args: z.array(z.string()), expect: Expect.optional(), code: z.number().int().default(2), secret: z.string().optional() });
export const FileCase = z.strictObject({ ...Common, file: z.string(), ext: z.string().default('yaml'), expect: Expect.optional(), secret: z.string().optional() });
export const ModelCase = z.strictObject({
  ...Common,
  api: z.enum(['openai', 'anthropic']).default('openai'),
  status: z.number().int().default(200),
  contentType: z.string().optional(),
  stream: z.boolean().default(false),
  body: z.string(),
  kind: z.string().optional(),
  expect: Expect.optional(),
  parseError: z.string().optional(),
});
export const HttpCase = z.strictObject({
  ...Common,
  server: z.enum(['openenv', 'api']),
  method: z.enum(['GET', 'POST']),
  path: z.string().startsWith('/'),
  body: z.string().optional(),
  status: z.number().int(),
  expect: Expect.optional(),
});
export const ToolCase = z.strictObject({ ...Common, tool: z.string(), arguments: z.unknown(), kind: z.enum(['invalid_arguments', 'unknown_tool', 'tool_error']), expect: Expect.optional() });
export const StoreCase = z.strictObject({ ...Common, sql: z.string(), args: z.array(z.string()), expect: Expect.optional() });

export const CorpusFile = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('cli'), cases: z.array(CliCase) }),
  z.strictObject({ kind: z.literal('config'), cases: z.array(FileCase) }),
  z.strictObject({ kind: z.literal('task-file'), cases: z.array(FileCase) }),
  z.strictObject({ kind: z.literal('model-response'), cases: z.array(ModelCase) }),
  z.strictObject({ kind: z.literal('http'), cases: z.array(HttpCase) }),
  z.strictObject({ kind: z.literal('tool-arguments'), env: z.string(), cases: z.array(ToolCase) }),
  z.strictObject({ kind: z.literal('store-row'), cases: z.array(StoreCase) }),
]);
export type CorpusFile = z.infer<typeof CorpusFile>;

export const CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url));

/** Every corpus file, parsed and checked; a broken one throws naming the file and the field. */
export function loadCorpus(dir = CORPUS_DIR): { file: string; corpus: CorpusFile }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      let raw: unknown;
      try {
        raw = parseYaml(readFileSync(join(dir, file), 'utf8'));
      } catch (error) {
        throw new Error(`${file}: not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
      }
      const parsed = CorpusFile.safeParse(raw);
      if (parsed.success) {
        const loose = parsed.data.cases.findIndex((c) => c.todo === undefined && c.expect === undefined && !('parseError' in c && c.parseError !== undefined));
        if (loose >= 0) throw new Error(`${file}: cases.${loose}: a case needs \`expect\` (or \`parseError\`), or \`todo\` saying why it cannot pass yet`);
      }
      if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return { file, corpus: parsed.data };
    });
}
