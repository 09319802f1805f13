import { useState, type FormEvent } from 'react';
import { useApi, useResource } from '../api/hooks.ts';
import { QUEUE_STRATEGIES, type Queue, type QueueStrategy } from '../api/schemas.ts';
import { href, navigate } from '../app/router.ts';
import { READ_ONLY_HINT, useStoreAccess } from '../app/store-access.ts';
import { when } from '../components/Badges.tsx';
import { Visible, visibleText } from '../components/Hidden.tsx';
import { Loaded } from '../components/States.tsx';
import { RubricEditor, rubricFromDrafts, type FieldDraft } from './RubricEditor.tsx';

const strategyHelp: Record<QueueStrategy, string> = {
  disagreement: 'where the rule detectors and the monitor disagree',
  flagged: 'rollouts with detector flags',
  random: 'a uniform sample',
  reward_jump: 'rollouts from steps where reward jumped',
  high_reward_flagged: 'high reward and flagged: likely hacks',
};

export function QueuesPage({ query }: { query: URLSearchParams }) {
  const api = useApi();
  const queues = useResource('queues', (signal) => api.queues(signal));
  return (
    <section aria-labelledby="queues-title">
      <h1 id="queues-title">Review queues</h1>
      <Loaded resource={queues} what="queues">
        {(page) => <QueueTable queues={page.items} />}
      </Loaded>
      <CreateQueue initialRun={query.get('run') ?? ''} onCreated={(q) => navigate(href(['queues', q.id]))} />
    </section>
  );
}

function QueueTable({ queues }: { queues: readonly Queue[] }) {
  if (queues.length === 0) return <p className="muted">No queues yet. Create one below or with `gauntlet review-queue`.</p>;
  return (
    <table className="data-table" aria-label="Queues">
      <thead>
        <tr>
          <th>Queue</th>
          <th>Run</th>
          <th>Strategy</th>
          <th className="num">Items</th>
          <th className="num">Items done</th>
          <th className="num">Verdicts needed</th>
          <th>Created</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {queues.map((q) => (
          <tr key={q.id}>
            <td>
              <Visible text={q.id} />
            </td>
            <td>
              <a href={href(['runs', q.runId])}>
                <Visible text={q.runId} />
              </a>
            </td>
            <td title={q.note === undefined ? undefined : visibleText(q.note)}>{q.strategy.replaceAll('_', ' ')}</td>
            <td className="num">{q.progress.items}</td>
            <td className="num">{q.progress.done}</td>
            <td className="num">{q.progress.labelsNeeded}</td>
            <td>{when(q.createdAt)}</td>
            <td>
              <a href={href(['queues', q.id])}>Review</a> · <a href={href(['stats'], { queueId: q.id })}>Agreement</a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CreateQueue({ initialRun, onCreated }: { initialRun: string; onCreated: (queue: Queue) => void }) {
  const api = useApi();
  const { readOnly } = useStoreAccess();
  const [runId, setRunId] = useState(initialRun);
  const [sample, setSample] = useState('50');
  const [strategy, setStrategy] = useState<QueueStrategy>('random');
  const [reviewers, setReviewers] = useState('2');
  const [fields, setFields] = useState<FieldDraft[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const rubric = rubricFromDrafts(fields);
    if (!rubric.ok) return setError(rubric.message);
    const n = Number(sample);
    const k = Number(reviewers);
    if (!runId.trim()) return setError('run: enter the id of the run to sample from');
    if (!Number.isInteger(n) || n < 1) return setError('sample: a whole number of rollouts, at least 1');
    if (!Number.isInteger(k) || k < 1) return setError('reviewers per item: a whole number, at least 1');
    setBusy(true);
    setError(null);
    try {
      const queue = await api.createQueue({ runId: runId.trim(), sample: n, strategy, reviewersPerItem: k, ...(rubric.fields.length ? { rubric: { fields: rubric.fields } } : {}) });
      onCreated(queue);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel create-queue" aria-labelledby="create-queue-title" onSubmit={(e) => void submit(e)}>
      <h2 id="create-queue-title">New queue</h2>
      {readOnly && (
        <p className="locked-hint" data-testid="create-queue-locked">
          {READ_ONLY_HINT}
        </p>
      )}
      <fieldset className="plain" disabled={readOnly}>
        <div className="form-row">
          <label className="stacked">
            <span>Run</span>
            <input value={runId} onChange={(e) => setRunId(e.target.value)} required />
          </label>
          <label className="stacked">
            <span>Sample (rollouts)</span>
            <input type="number" min={1} value={sample} onChange={(e) => setSample(e.target.value)} />
          </label>
          <label className="stacked">
            <span>Strategy</span>
            <select value={strategy} onChange={(e) => setStrategy(e.target.value as QueueStrategy)}>
              {QUEUE_STRATEGIES.map((s) => (
                <option key={s} value={s}>
                  {s.replaceAll('_', ' ')} — {strategyHelp[s]}
                </option>
              ))}
            </select>
          </label>
          <label className="stacked">
            <span>Reviewers per item</span>
            <input type="number" min={1} value={reviewers} onChange={(e) => setReviewers(e.target.value)} />
          </label>
        </div>
        <RubricEditor drafts={fields} onChange={setFields} />
        <button type="submit" disabled={busy || readOnly}>
          Create queue
        </button>
      </fieldset>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
