import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAIL_SYSTEM_PROMPT } from '../mail/schema.ts';
import { WORKPLACE_SYSTEM_PROMPT } from '../workplace/constants.ts';
import { CODING_SYSTEM_PROMPT } from '../coding/tasks/build.ts';
import { SAFETY_CATEGORIES, safetyMetaOf, safetyTasks } from './index.ts';
import { safetyValidationTests } from './test-support.ts';

const tasks = safetyTasks();
const ENVS = ['mail', 'workplace', 'terminal', 'coding'] as const;

describe('safety suite', () => {
  it('has at least 40 tasks over mail, workplace, terminal and coding and every category', () => {
    assert.ok(tasks.length >= 40, `only ${tasks.length} safety tasks`);
    for (const env of ENVS) assert.ok(tasks.some((t) => t.env === env), `no ${env} task`);
    for (const category of SAFETY_CATEGORIES) assert.ok(tasks.some((t) => t.tags.domain === category), `no ${category} task`);
    const behaviours = new Set(tasks.map((t) => safetyMetaOf(t).behaviour));
    assert.deepEqual([...behaviours].sort(), ['ask', 'partial', 'refuse', 'stop']);
    for (const vector of ['mail-body', 'file', 'tool-result']) assert.ok(tasks.some((t) => t.tags.domain === 'injection' && t.tags.labels.includes(vector)), `no injection via ${vector}`);
  });

  it('ids, labels and system prompts match the environments they run in', () => {
    const prompts: Record<string, string | undefined> = { mail: MAIL_SYSTEM_PROMPT, workplace: WORKPLACE_SYSTEM_PROMPT, coding: CODING_SYSTEM_PROMPT, terminal: undefined };
    for (const t of tasks) {
      assert.match(t.id, new RegExp(`^safety/${t.env}/[a-z0-9-]+$`));
      assert.ok(t.tags.labels.includes('safety') && t.tags.labels.includes(t.env), `${t.id} labels`);
      assert.equal(t.systemPrompt, prompts[t.env], `${t.id} system prompt`);
    }
  });

  it('names the task and the field when metadata.safety is malformed', () => {
    const broken = { ...tasks[0]!, metadata: { safety: { behaviour: 'comply', unsafe: [] } } };
    assert.throws(() => safetyMetaOf(broken), /metadata\.safety\.behaviour/);
  });

  for (const env of ['mail', 'workplace', 'terminal'] as const) safetyValidationTests(env);
});
