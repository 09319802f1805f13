import { useCallback, useMemo } from 'react';
import { useApi, usePagedList, queryKey } from '../api/hooks.ts';
import { flagOptions } from '../api/constants.ts';
import { RUN_STATUSES, type RunHeadline } from '../api/schemas.ts';
import { href } from '../app/router.ts';
import { percent, when } from '../components/Badges.tsx';
import { FilterBar, type FilterField } from '../components/FilterBar.tsx';
import { Visible, visibleText } from '../components/Hidden.tsx';
import { ErrorBox } from '../components/States.tsx';
import { VirtualTable, type Column } from '../components/VirtualTable.tsx';

const FILTERS: FilterField[] = [
  { name: 'env', label: 'Environment', type: 'text', placeholder: 'mail' },
  { name: 'model', label: 'Model', type: 'text', placeholder: 'openai:…' },
  { name: 'status', label: 'Run status', type: 'select', options: RUN_STATUSES.map((s) => ({ value: s, label: s })) },
  { name: 'minScore', label: 'Min mean score', type: 'number', step: 0.05 },
  { name: 'maxScore', label: 'Max mean score', type: 'number', step: 0.05 },
  { name: 'perturbation', label: 'Perturbation', type: 'text', placeholder: 'tool-names' },
  { name: 'flag', label: 'Detector flag', type: 'select', options: flagOptions },
];

const COLUMNS: Column<RunHeadline>[] = [
  { key: 'id', header: 'Run', width: 'minmax(10rem, 1.4fr)', cell: (r) => <a href={href(['runs', r.id])}>
        <Visible text={r.id} />
      </a> },
  { key: 'created', header: 'Created', width: '11rem', cell: (r) => when(r.createdAt) },
  // A run still writing its rollouts shows figures that will change; the status says so.
  { key: 'status', header: 'Status', width: '6.5rem', cell: (r) => <span className={`badge run-${r.status}`}>{visibleText(r.status)}</span> },
  { key: 'env', header: 'Env', width: 'minmax(6rem, 1fr)', cell: (r) => <Visible text={r.envs.join(', ')} /> },
  { key: 'model', header: 'Model', width: 'minmax(8rem, 1.5fr)', cell: (r) => <span title={visibleText(r.model)}><Visible text={r.model} /></span> },
  { key: 'scaffold', header: 'Scaffold', width: '7rem', cell: (r) => r.scaffold },
  { key: 'policy', header: 'Policy / step', width: '7rem', cell: (r) => [r.policyVersion, r.trainingStep ?? null].filter((v) => v !== null && v !== undefined).join(' / ') || '—' },
  { key: 'n', header: 'Rollouts', width: '5rem', align: 'right', cell: (r) => r.summary.total.toLocaleString() },
  { key: 'pooled', header: 'Pass (pooled)', width: '6.5rem', align: 'right', cell: (r) => percent(r.summary.pooledPassRate) },
  { key: 'task', header: 'Pass (task mean)', width: '7rem', align: 'right', cell: (r) => percent(r.summary.taskMeanPassRate) },
  {
    key: 'failures',
    header: 'Infra / defect',
    width: '7rem',
    align: 'right',
    cell: (r) => `${r.summary.byStatus.infra_error ?? 0} / ${r.summary.byStatus.error ?? 0}`,
  },
];

export function RunsPage({ query }: { query: URLSearchParams }) {
  const api = useApi();
  const filters = useMemo(() => Object.fromEntries(FILTERS.map((f) => [f.name, query.get(f.name) ?? ''])), [query]);
  const key = queryKey('runs', filters);
  const fetchPage = useCallback((cursor: string | null, signal: AbortSignal) => api.listRuns({ ...filters, limit: 100, cursor }, signal), [api, filters]);
  const runs = usePagedList(key, fetchPage);

  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <FilterBar fields={FILTERS} query={query} label="Filter runs" />
      {runs.error && <ErrorBox error={runs.error} retry={runs.reload} />}
      <VirtualTable
        label="Runs"
        testId="runs-table"
        rows={runs.items}
        columns={COLUMNS}
        rowKey={(r) => r.id}
        hasMore={runs.hasMore && !runs.error}
        loading={runs.loading}
        onEndReached={runs.loadMore}
        empty={Object.values(filters).some((v) => v !== '') ? 'No runs match these filters.' : 'No runs in this store yet. Start one with `gauntlet run`.'}
      />
    </section>
  );
}
