// Training-time monitoring: where experts look when scores suddenly rise. Each x position is a
// policy version (or training step); each chart one signal across them.
import { useApi, useResource } from '../api/hooks.ts';
import type { MonitoringPoint } from '../api/schemas.ts';
import { href } from '../app/router.ts';
import { LineChart } from '../charts/LineChart.tsx';
import { FilterBar, type FilterField } from '../components/FilterBar.tsx';
import { Visible } from '../components/Hidden.tsx';
import { Loaded } from '../components/States.tsx';

const FILTERS: FilterField[] = [
  { name: 'env', label: 'Environment', type: 'text' },
  { name: 'model', label: 'Model', type: 'text' },
];

export function MonitoringPage({ query }: { query: URLSearchParams }) {
  const api = useApi();
  const env = query.get('env') ?? '';
  const model = query.get('model') ?? '';
  const data = useResource(`monitoring:${env}:${model}`, (signal) => api.monitoring({ env, model }, signal));
  return (
    <section aria-labelledby="monitoring-title">
      <h1 id="monitoring-title">Training monitor</h1>
      <FilterBar fields={FILTERS} query={query} label="Scope" />
      <Loaded resource={data} what="monitoring data">
        {({ points }) => <Charts points={points} />}
      </Loaded>
    </section>
  );
}

const stepLabel = (p: MonitoringPoint) => (p.trainingStep !== null ? `step ${p.trainingStep}` : p.policyVersion);

function Charts({ points }: { points: readonly MonitoringPoint[] }) {
  if (points.length === 0) return <p className="muted">No runs tagged with a policy version or training step match. Tag runs with `--policy-version`.</p>;
  const x = points.map(stepLabel);
  // Categories that were ever flagged; the rest would draw flat lines at zero.
  const categories = [...new Set(points.flatMap((p) => Object.entries(p.flagRates).filter(([, v]) => v > 0).map(([c]) => c)))].sort();
  return (
    <>
      <div className="charts" data-testid="monitoring-charts">
        <LineChart title="Reward (mean)" yLabel="reward" xLabels={x} series={[{ name: 'reward', values: points.map((p) => p.rewardMean) }]} />
        <LineChart title="Pass rate" yLabel="pass rate" xLabels={x} series={[{ name: 'pass rate', values: points.map((p) => p.passRate) }]} />
        <LineChart
          title="Detector flag rate (share of examined rollouts)"
          yLabel="flagged share"
          xLabels={x}
          series={[
            { name: 'any flag', values: points.map((p) => p.flagRate) },
            // A category with no flag at an examined step is 0 there; unexamined steps are gaps.
            ...categories.map((c) => ({ name: c.replaceAll('_', ' '), values: points.map((p) => (p.flagRate === null ? null : (p.flagRates[c] ?? 0))) })),
          ]}
        />
        <LineChart
          title="Shell commands"
          yLabel="share / per rollout"
          xLabels={x}
          series={[
            { name: 'share of tool calls', values: points.map((p) => p.bashCommandRate) },
            { name: 'per rollout', values: points.map((p) => p.bashCommandsPerRollout) },
          ]}
        />
        <LineChart title="Response length (completion tokens per call)" yLabel="tokens" xLabels={x} series={[{ name: 'tokens', values: points.map((p) => p.responseTokensMean) }]} />
      </div>
      <table className="data-table" aria-label="Runs per step">
        <thead>
          <tr>
            <th>Step</th>
            <th>Policy version</th>
            <th className="num">Rollouts</th>
            <th>Runs</th>
          </tr>
        </thead>
        <tbody>
          {points.map((p, i) => (
            <tr key={`${stepLabel(p)}-${i}`}>
              <td>{stepLabel(p)}</td>
              <td>{p.policyVersion}</td>
              <td className="num">{p.rollouts}</td>
              <td>
                {p.runs.map((id) => (
                  <a key={id} href={href(['runs', id])} className="run-link">
                    <Visible text={id} />
                  </a>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
