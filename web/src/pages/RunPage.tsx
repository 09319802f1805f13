import { memo, useCallback, useMemo, useState } from 'react';
import { queryKey, useApi, usePagedList, useResource } from '../api/hooks.ts';
import { flagOptions } from '../api/constants.ts';
import { ROLLOUT_STATUSES, type RolloutRow, type RunDetail } from '../api/schemas.ts';
import { useHotkeys } from '../app/hotkeys.ts';
import { href, navigate } from '../app/router.ts';
import { Histogram } from '../charts/Histogram.tsx';
import { RateBars } from '../charts/RateBars.tsx';
import { PassBadge, Stat, StatusBadge, compact, duration, fixed, percent, when } from '../components/Badges.tsx';
import { FilterBar, type FilterField } from '../components/FilterBar.tsx';
import { Visible, visibleText } from '../components/Hidden.tsx';
import { JsonView } from '../components/JsonView.tsx';
import { ErrorBox, Loaded } from '../components/States.tsx';
import { VirtualTable, type Column } from '../components/VirtualTable.tsx';

/** Rows per request: few requests for 10,000 rows, each small enough to parse within a frame or two. */
const PAGE_SIZE = 500;

const FILTERS: FilterField[] = [
  { name: 'status', label: 'Status', type: 'select', options: ROLLOUT_STATUSES.map((s) => ({ value: s, label: s })) },
  { name: 'passed', label: 'Passed', type: 'select', options: [{ value: 'true', label: 'passed' }, { value: 'false', label: 'failed' }] },
  { name: 'task', label: 'Task', type: 'text', placeholder: 'task id' },
  { name: 'flag', label: 'Detector flag', type: 'select', options: flagOptions },
];

const COLUMNS: Column<RolloutRow>[] = [
  { key: 'id', header: 'Rollout', width: 'minmax(9rem, 1.3fr)', cell: (r) => (
      <a href={href(['rollouts', r.id])}>
        <Visible text={r.id} />
      </a>
    ) },
  { key: 'task', header: 'Task', width: 'minmax(8rem, 1.3fr)', cell: (r) => <span title={visibleText(r.taskId)}><Visible text={r.taskId} /></span> },
  { key: 'epoch', header: 'Epoch', width: '4rem', align: 'right', cell: (r) => r.epoch },
  { key: 'status', header: 'Status', width: '6.5rem', cell: (r) => <StatusBadge status={r.status} /> },
  { key: 'reason', header: 'Ended by', width: '8rem', cell: (r) => r.terminationReason },
  { key: 'score', header: 'Score', width: '4.5rem', align: 'right', cell: (r) => fixed(r.score, 2) },
  { key: 'passed', header: 'Result', width: '6rem', cell: (r) => <PassBadge passed={r.passed} /> },
  { key: 'turns', header: 'Turns', width: '4rem', align: 'right', cell: (r) => r.turns },
  { key: 'tools', header: 'Tool calls', width: '5rem', align: 'right', cell: (r) => r.toolCalls },
  { key: 'time', header: 'Time', width: '5.5rem', align: 'right', cell: (r) => duration(r.durationMs) },
  {
    key: 'flags',
    header: 'Flags',
    width: '4rem',
    align: 'right',
    cell: (r) => (r.flags === null ? <span className="muted" title="not examined by the detectors">–</span> : r.flags > 0 ? <span className="badge severity-high">{r.flags}</span> : '0'),
  },
  { key: 'labels', header: 'Labels', width: '5rem', align: 'right', cell: (r) => <span title={`${r.labels.verdict} verdicts, ${r.labels.step} step ratings, ${r.labels.preference} preferences`}>{r.labels.verdict + r.labels.step + r.labels.preference}</span> },
];

export function RunPage({ runId, query }: { runId: string; query: URLSearchParams }) {
  const api = useApi();
  const detail = useResource(`run:${runId}`, (signal) => api.run(runId, signal));
  const filters = useMemo(() => Object.fromEntries(FILTERS.map((f) => [f.name, query.get(f.name) ?? ''])), [query]);
  const fetchPage = useCallback((cursor: string | null, signal: AbortSignal) => api.rollouts(runId, { ...filters, limit: PAGE_SIZE, cursor }, signal), [api, runId, filters]);
  const rollouts = usePagedList(queryKey(`rollouts:${runId}`, filters), fetchPage);
  const [active, setActive] = useState(-1);
  const [readAt, setReadAt] = useState(() => new Date());
  const open = (index: number) => {
    const row = rollouts.items[index];
    if (row) navigate(href(['rollouts', row.id]));
  };

  useHotkeys([
    { keys: ['j', 'ArrowDown'], description: 'Next rollout', run: () => setActive((i) => Math.min(rollouts.items.length - 1, i + 1)) },
    { keys: ['k', 'ArrowUp'], description: 'Previous rollout', run: () => setActive((i) => Math.max(0, i - 1)) },
    { keys: ['Enter', 'o'], description: 'Open the selected rollout', run: () => open(active) },
  ]);

  return (
    <section aria-labelledby="run-title">
      <p className="crumbs">
        <a href={href(['runs'])}>Runs</a> / <Visible text={runId} />
      </p>
      <h1 id="run-title">
        Run <Visible text={runId} />
      </h1>
      <Loaded resource={detail} what="the run">
        {(data) => (
          <>
            {data.status === 'running' && (
              <StillRunning
                readAt={readAt}
                onRefresh={() => {
                  setReadAt(new Date());
                  detail.reload();
                  rollouts.reload();
                }}
              />
            )}
            <Overview detail={data} />
          </>
        )}
      </Loaded>
      <h2 id="rollouts-title">Rollouts</h2>
      <FilterBar fields={FILTERS} query={query} label="Filter rollouts" />
      {rollouts.error && <ErrorBox error={rollouts.error} retry={rollouts.reload} />}
      <p className="muted" aria-live="polite">
        {rollouts.items.length.toLocaleString()}
        {rollouts.hasMore ? '+' : ''} rollouts shown · <kbd>j</kbd>/<kbd>k</kbd> to move, <kbd>Enter</kbd> to open
      </p>
      <VirtualTable
        label="Rollouts"
        testId="rollouts-table"
        rows={rollouts.items}
        columns={COLUMNS}
        rowKey={(r) => r.id}
        hasMore={rollouts.hasMore && !rollouts.error}
        loading={rollouts.loading}
        onEndReached={rollouts.loadMore}
        activeIndex={active}
      />
    </section>
  );
}

/**
 * A run still writing rollouts: the page shows what the store held when it loaded, so say so and
 * offer to read it again (nothing refreshes by itself under a reader who is scrolling or labelling).
 */
function StillRunning({ readAt, onRefresh }: { readAt: Date; onRefresh: () => void }) {
  return (
    <p className="notice" role="status" data-testid="run-in-progress">
      This run is still in progress: figures and rollouts are as the store held them at {readAt.toLocaleTimeString()}.{' '}
      <button type="button" onClick={onRefresh}>
        Refresh
      </button>
    </p>
  );
}

/** What the spend figures count: every attempt, retried ones included. */
function spentHint(retried: number): string {
  return retried > 0 ? `every attempt, ${retried.toLocaleString()} retried included` : 'every attempt';
}

// Memoised: the rollout pages arriving below must not redraw the charts above.
const Overview = memo(function RunOverview({ detail }: { detail: RunDetail }) {
  const { summary } = detail;
  const config = detail.run.config;
  const tasks = [...detail.perTask].sort((a, b) => (a.passRate ?? -1) - (b.passRate ?? -1));
  const flags = Object.entries(detail.flags.byCategory).filter(([, n]) => n > 0);
  const tools = Object.entries(detail.toolCalls).sort(([, a], [, b]) => b - a);
  const toolTotal = tools.reduce((sum, [, n]) => sum + n, 0);
  return (
    <>
      <p className="muted">
        <Visible text={detail.model} /> · <Visible text={detail.envs.join(', ')} /> · scaffold {detail.scaffold} · {detail.epochs} epochs · created {when(detail.createdAt)} · {detail.status}
        {detail.policyVersion ? ` · policy ${detail.policyVersion}` : ''}
      </p>
      <div className="stats" data-testid="run-stats">
        <Stat label="rollouts" value={summary.total.toLocaleString()} />
        <Stat label="pass rate (pooled)" value={percent(summary.pooledPassRate)} hint="passed ÷ scored rollouts" />
        <Stat label="pass rate (mean of tasks)" value={percent(summary.taskMeanPassRate)} hint="each task weighs the same" />
        <Stat label="mean score" value={fixed(summary.meanScore, 3)} hint="over scored rollouts" />
        {ROLLOUT_STATUSES.map((s) => (
          <Stat key={s} label={s.replace('_', ' ')} value={(summary.byStatus[s] ?? 0).toLocaleString()} hint={s === 'scored' ? 'judged rollouts' : 'not counted in pass rates'} />
        ))}
        <Stat label="model calls" value={detail.spent.modelCalls.toLocaleString()} hint={spentHint(detail.spent.attempts - summary.total)} />
        <Stat label="tokens in / out" value={`${compact(detail.spent.promptTokens)} / ${compact(detail.spent.completionTokens)}`} hint={spentHint(detail.spent.attempts - summary.total)} />
      </div>
      <div className="charts">
        <Histogram bins={detail.scoreHistogram} title="Score distribution (scored rollouts)" xLabel="score" />
        <RateBars title="Pass rate per task (worst first)" items={tasks.map((t) => ({ label: t.taskId, rate: t.passRate, n: t.scored }))} />
        {detail.perPerturbation.length > 0 && (
          <RateBars title="Pass rate per perturbation" items={detail.perPerturbation.map((p) => ({ label: p.perturbation, rate: p.passRate, n: p.scored }))} />
        )}
        <RateBars
          title="How rollouts ended"
          items={Object.entries(detail.terminationCounts).map(([reason, n]) => ({ label: reason, rate: summary.total ? n / summary.total : null, n }))}
        />
        {tools.length > 0 && <RateBars title="Tool calls by tool (share of all calls)" items={tools.map(([name, n]) => ({ label: name, rate: n / toolTotal, n }))} />}
      </div>
      <h2>Detector flags</h2>
      {detail.flags.examined === 0 ? (
        <p className="muted">The detectors have not examined this run’s rollouts (run `gauntlet detect`).</p>
      ) : flags.length === 0 ? (
        <p className="muted">The detectors examined {detail.flags.examined.toLocaleString()} rollouts and flagged none.</p>
      ) : (
        <>
          <p className="muted">
            {detail.flags.flagged.toLocaleString()} of {detail.flags.examined.toLocaleString()} examined rollouts flagged.
          </p>
          <ul className="flag-counts">
            {flags.map(([category, n]) => (
              <li key={category}>
                <a href={href(['runs', detail.id], { flag: category })}>{category.replaceAll('_', ' ')}</a>: {n}
              </li>
            ))}
          </ul>
        </>
      )}
      <details>
        <summary>Run settings</summary>
        <JsonView value={config} />
      </details>
    </>
  );
});
