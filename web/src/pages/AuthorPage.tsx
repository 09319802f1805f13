// Expert task authoring: turn a trajectory into a new task (instruction, initial state, verifier
// checks, golden solution). The server validates it (schema, the environment's own task checks,
// a golden replay) and saves only a task that passed; the form saves only what was validated.
import { useMemo, useState } from 'react';
import { useApi, useResource } from '../api/hooks.ts';
import type { RolloutDetail, TaskValidation } from '../api/schemas.ts';
import { href } from '../app/router.ts';
import { useStoreAccess } from '../app/store-access.ts';
import { CheckList } from '../components/CheckList.tsx';
import { Visible } from '../components/Hidden.tsx';
import { Loaded } from '../components/States.tsx';

interface Draft {
  id: string;
  env: string;
  instruction: string;
  systemPrompt: string;
  domain: string;
  difficulty: 'easy' | 'medium' | 'hard';
  initialState: string;
  verifier: string;
  golden: string;
  file: string;
}

const blank: Draft = { id: '', env: '', instruction: '', systemPrompt: '', domain: '', difficulty: 'medium', initialState: '{}', verifier: '{}', golden: '{\n  "steps": []\n}', file: '' };

/**
 * A first draft from what the rollout did: its instruction, its tool calls as the golden steps,
 * and (when the run stored it) the original task's initial state, verifier and tags to edit.
 */
export function draftFromRollout(detail: RolloutDetail): Draft {
  const first = detail.steps[0]?.request.messages ?? [];
  const instruction = first.find((m) => m.role === 'user')?.content ?? '';
  const systemPrompt = first.find((m) => m.role === 'system')?.content ?? '';
  const steps = detail.steps.flatMap((s) => (s.response?.toolCalls ?? []).filter((c) => c.arguments !== null).map((c) => ({ tool: c.name, arguments: c.arguments })));
  const answer = detail.rollout.finalAnswer;
  const id = `${detail.rollout.taskId}-expert-${detail.rollout.id.slice(-6)}`.replace(/[^A-Za-z0-9_.:/-]/g, '-');
  const task = detail.task ?? {};
  const tags = isRecord(task.tags) ? task.tags : {};
  const difficulty = tags.difficulty === 'easy' || tags.difficulty === 'hard' ? tags.difficulty : 'medium';
  return {
    ...blank,
    id,
    env: detail.rollout.env,
    instruction,
    systemPrompt,
    domain: typeof tags.domain === 'string' ? tags.domain : '',
    difficulty,
    initialState: JSON.stringify(isRecord(task.initialState) ? task.initialState : {}, null, 2),
    verifier: JSON.stringify(isRecord(task.verifier) ? task.verifier : {}, null, 2),
    golden: JSON.stringify({ steps, ...(answer ? { answer } : {}) }, null, 2),
    file: `expert/${id.replaceAll('/', '-')}.yaml`,
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

type Built = { ok: true; task: Record<string, unknown> } | { ok: false; field: string; message: string };

function buildTask(d: Draft): Built {
  const json: Record<string, unknown> = {};
  for (const field of ['initialState', 'verifier', 'golden'] as const) {
    try {
      json[field] = JSON.parse(d[field]) as unknown;
    } catch (e) {
      return { ok: false, field, message: `${field} is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return {
    ok: true,
    task: {
      id: d.id.trim(),
      env: d.env.trim(),
      instruction: d.instruction,
      ...(d.systemPrompt.trim() ? { systemPrompt: d.systemPrompt } : {}),
      initialState: json.initialState,
      verifier: json.verifier,
      golden: json.golden,
      tags: { domain: d.domain.trim() || d.env.trim(), difficulty: d.difficulty, labels: ['expert-authored'] },
    },
  };
}

export function AuthorPage({ query }: { query: URLSearchParams }) {
  const api = useApi();
  const rolloutId = query.get('rollout');
  const source = useResource(`author:${rolloutId ?? ''}`, (signal) => (rolloutId ? api.rollout(rolloutId, signal) : Promise.resolve(null)));
  return (
    <section aria-labelledby="author-title">
      <h1 id="author-title">New task</h1>
      {rolloutId ? (
        <p className="muted">
          Drafted from rollout{' '}
          <a href={href(['rollouts', rolloutId])}>
            <Visible text={rolloutId} />
          </a>
          : its instruction, its tool calls as the golden solution, and its task’s initial state and verifier to change.
        </p>
      ) : (
        <p className="muted">Open a trajectory and choose “Turn into a task” to start from what a model did.</p>
      )}
      <Loaded resource={source} what="the source rollout">
        {(detail) => <AuthorForm key={rolloutId ?? ''} initial={detail ? draftFromRollout(detail) : blank} />}
      </Loaded>
    </section>
  );
}

function AuthorForm({ initial }: { initial: Draft }) {
  const api = useApi();
  // Tasks are saved beside the store, which is not written when it is read-only; validating still works.
  const { readOnly } = useStoreAccess();
  const [draft, setDraft] = useState(initial);
  const [validation, setValidation] = useState<{ for: string; result: TaskValidation } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const built = useMemo(() => buildTask(draft), [draft]);
  const fingerprint = built.ok ? JSON.stringify(built.task) : null;
  const validatedNow = validation !== null && validation.for === fingerprint && validation.result.valid;
  const set = (change: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...change }));
    setSaved(null);
  };

  const run = async (action: 'validate' | 'save') => {
    if (!built.ok) {
      setError(built.message);
      document.getElementById(`task-${built.field}`)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (action === 'validate') setValidation({ for: JSON.stringify(built.task), result: await api.validateTask(built.task) });
      else setSaved((await api.saveTask(built.task, draft.file.trim())).path);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const text = (field: keyof Draft, label: string, rows = 0) => (
    <label className="stacked" htmlFor={`task-${field}`}>
      <span>{label}</span>
      {rows ? (
        <textarea id={`task-${field}`} rows={rows} value={draft[field]} onChange={(e) => set({ [field]: e.target.value })} spellCheck={false} />
      ) : (
        <input id={`task-${field}`} value={draft[field]} onChange={(e) => set({ [field]: e.target.value })} />
      )}
    </label>
  );

  return (
    <form className="author-form" onSubmit={(e) => e.preventDefault()} aria-label="Task">
      <div className="form-row">
        {text('id', 'Task id')}
        {text('env', 'Environment')}
        {text('domain', 'Domain')}
        <label className="stacked">
          <span>Difficulty</span>
          <select value={draft.difficulty} onChange={(e) => set({ difficulty: e.target.value as Draft['difficulty'] })}>
            <option value="easy">easy</option>
            <option value="medium">medium</option>
            <option value="hard">hard</option>
          </select>
        </label>
      </div>
      {text('instruction', 'Instruction', 5)}
      {text('systemPrompt', 'System prompt (optional)', 2)}
      <div className="form-columns">
        {text('initialState', 'Initial state (JSON, as the environment expects)', 10)}
        {text('verifier', 'Verifier checks (JSON)', 10)}
      </div>
      {text('golden', 'Golden solution (JSON: steps of { tool, arguments }, optional answer)', 10)}
      {text('file', 'Save as (a .yaml or .json path inside the server’s tasks folder)')}
      <div className="verdict-buttons">
        <button type="button" disabled={busy} onClick={() => void run('validate')}>
          Validate
        </button>
        <button
          type="button"
          disabled={busy || readOnly || !validatedNow || !draft.file.trim()}
          onClick={() => void run('save')}
          title={readOnly ? 'The store is read-only: tasks are not saved beside it' : validatedNow ? '' : 'Validate this exact task first'}
        >
          Save task
        </button>
      </div>
      {readOnly && (
        <p className="locked-hint" data-testid="save-task-locked">
          The store is read-only: a task can be validated here but not saved beside it.
        </p>
      )}
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      {validation && <ValidationView result={validation.result} stale={validation.for !== fingerprint} />}
      {saved && (
        <p className="notice" role="status">
          Saved to <Visible text={saved} />.
        </p>
      )}
    </form>
  );
}

function ValidationView({ result, stale }: { result: TaskValidation; stale: boolean }) {
  return (
    <div className={`panel validation ${result.valid ? 'pass' : 'fail'}`} role="status" data-testid="task-validation">
      <h2>{result.valid ? 'Valid' : 'Not valid'}{stale ? ' (for an earlier version of this form: validate again)' : ''}</h2>
      {result.problems.length > 0 && (
        <ul>
          {result.problems.map((problem, i) => (
            <li key={i}>
              <code>
                <Visible text={problem.field} />
              </code>
              : <Visible text={problem.message} />
            </li>
          ))}
        </ul>
      )}
      {result.golden && (
        <>
          <p>Golden replay: {result.golden.passed ? 'passes its verifier' : 'does not pass its verifier'}</p>
          <CheckList checks={result.golden.checks} />
        </>
      )}
    </div>
  );
}
