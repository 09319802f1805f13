import { z } from 'zod';
import { defineCheck, type CheckDefinition } from './define.ts';
import { diffTable } from './state.ts';
import { visibleText } from './text.ts';

function normalise(text: string): string {
  return visibleText(text).toLowerCase().replace(/[\s,]+/g, ' ').trim();
}

/** Checks every environment understands, besides its own. */
export const genericChecks: Record<string, CheckDefinition> = {
  answer_contains: defineCheck({
    kind: 'outcome',
    description: 'The final answer mentions every one of `values` (case- and comma-insensitive).',
    params: z.object({ values: z.array(z.string()).min(1), name: z.string().optional() }),
    run: ({ values }, { answer }) => {
      if (answer === null) return { passed: false, detail: 'no final answer' };
      const missing = values.filter((v) => !normalise(answer).includes(normalise(v)));
      return missing.length === 0 ? { passed: true } : { passed: false, detail: `answer lacks: ${missing.join(', ')}` };
    },
  }),
  answer_excludes: defineCheck({
    kind: 'outcome',
    description: 'The final answer mentions none of `values`.',
    params: z.object({ values: z.array(z.string()).min(1), name: z.string().optional() }),
    run: ({ values }, { answer }) => {
      const found = values.filter((v) => answer !== null && normalise(answer).includes(normalise(v)));
      return found.length === 0 ? { passed: true } : { passed: false, detail: `answer mentions: ${found.join(', ')}` };
    },
  }),
  table_unchanged: defineCheck({
    kind: 'invariant',
    description: 'A table has the same rows as at the start, apart from rows whose key is listed in `except`.',
    params: z.object({
      table: z.string(),
      key: z.string().default('id'),
      except: z.array(z.string()).default([]),
      name: z.string().optional(),
    }),
    run: ({ table, key, except }, { initial, final }) => {
      const diff = diffTable(initial, final, table, key);
      const allowed = new Set(except);
      // Matched on the whole key: a key the agent chose ("alpha beta") must not pass for "alpha".
      const bad = [
        ...diff.added.map((r) => ['added', String(r[key])]),
        ...diff.removed.map((r) => ['removed', String(r[key])]),
        ...diff.changed.map((c) => ['changed', String(c.after[key])]),
      ]
        .filter(([, k]) => !allowed.has(k!))
        .map(([what, k]) => `${what} ${k}`);
      return bad.length === 0 ? { passed: true } : { passed: false, detail: bad.slice(0, 10).join('; ') };
    },
    // A table the world lacks would compare nothing with nothing and always pass.
    problems: ({ table, key }, world) => {
      const columns = world.tables.get(table);
      if (!columns) return [`table "${table}" is not in this environment's state (tables: ${[...world.tables.keys()].join(', ') || 'none'})`];
      if (!columns.includes(key)) return [`key "${key}" is not a column of table ${table} (columns: ${columns.join(', ')}); name one with key`];
      return [];
    },
  }),
};
