// A coding task is only valid when its hidden tests FAIL on the repo as given and PASS after the
// golden steps: otherwise the task either rewards doing nothing or cannot be solved.
import { errorMessage, type CheckResult, type Task } from '../../core/index.ts';
import { type SandboxBackend } from '../../sandbox/index.ts';
import { VerifierSpec, type EnvironmentDefinition } from '../define.ts';
import { instantiate } from '../instance.ts';
import { HiddenTestsParams } from './checks.ts';
import { loadSuite } from './grader/suite.ts';

export interface SelfCheckOptions {
  seed: number;
  sandbox?: SandboxBackend;
}

const describe = (checks: CheckResult[]) => checks.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ');

/** Problems with the task's own material, found without a sandbox (every hidden suite must load). */
async function staticProblems(task: Task): Promise<{ problems: string[]; hiddenIndexes: number[] }> {
  const problems: string[] = [];
  const spec = VerifierSpec.safeParse(task.verifier);
  if (!spec.success) return { problems: ['verifier is not { checks: [...] }'], hiddenIndexes: [] };
  const hiddenIndexes: number[] = [];
  for (const [i, { check, ...params }] of spec.data.checks.entries()) {
    if (check !== 'hidden_tests') continue;
    hiddenIndexes.push(i);
    const parsed = HiddenTestsParams.safeParse(params);
    if (!parsed.success) {
      problems.push(`verifier.checks.${i}: invalid hidden_tests params`);
      continue;
    }
    for (const ref of parsed.data.files) {
      try {
        await loadSuite(ref);
      } catch (error) {
        problems.push(errorMessage(error));
      }
    }
  }
  if (hiddenIndexes.length === 0) problems.push('the verifier has no hidden_tests check');
  if (task.golden.steps.at(-1)?.tool !== 'submit') problems.push('the golden solution does not end with submit');
  return { problems, hiddenIndexes };
}

export async function selfCheckCodingTask(definition: EnvironmentDefinition, task: Task, options: SelfCheckOptions): Promise<string[]> {
  const { problems, hiddenIndexes } = await staticProblems(task);
  if (problems.length > 0) return problems;
  if (options.sandbox === 'virtual') return ['coding tasks need the bwrap sandbox: hidden tests cannot run in the virtual shell'];
  const env = instantiate(definition, { sandbox: options.sandbox ?? 'auto' });
  const signal = new AbortController().signal;
  try {
    await env.reset(task, { seed: options.seed });
    const before = await env.verify({ answer: null });
    for (const i of hiddenIndexes) {
      const result = before.checks[i];
      if (result?.passed) problems.push(`hidden tests already pass on the initial repo (${result.name})`);
    }
    for (const [i, step] of task.golden.steps.entries()) {
      const out = await env.call(step.tool, step.arguments, { signal });
      if (!out.ok) problems.push(`golden step ${i} (${step.tool}) failed: ${out.error}`);
    }
    const after = await env.verify({ answer: null });
    if (!after.passed) problems.push(`after the golden steps the verifier fails: ${describe(after.checks.filter((c) => !c.passed))}`);
  } catch (error) {
    problems.push(`self-check could not run: ${errorMessage(error)}`);
  } finally {
    await env.close();
  }
  return problems;
}
