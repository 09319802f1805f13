import { useApi, useResource } from '../api/hooks.ts';
import type { AgreementBlock, DetectorScore, ReviewStats } from '../api/schemas.ts';
import { fixed, percent } from '../components/Badges.tsx';
import { FilterBar, type FilterField } from '../components/FilterBar.tsx';
import { Visible } from '../components/Hidden.tsx';
import { Loaded } from '../components/States.tsx';

const FILTERS: FilterField[] = [
  { name: 'runId', label: 'Run', type: 'text' },
  { name: 'queueId', label: 'Queue', type: 'text' },
];

export function StatsPage({ query }: { query: URLSearchParams }) {
  const api = useApi();
  const runId = query.get('runId') ?? '';
  const queueId = query.get('queueId') ?? '';
  const stats = useResource(`stats:${runId}:${queueId}`, (signal) => api.reviewStats({ runId, queueId }, signal));
  return (
    <section aria-labelledby="stats-title">
      <h1 id="stats-title">Reviewer agreement</h1>
      <FilterBar fields={FILTERS} query={query} label="Scope" />
      <Loaded resource={stats} what="agreement statistics">
        {(data) => <StatsView stats={data} />}
      </Loaded>
    </section>
  );
}

function alphaText(block: AgreementBlock): string {
  const { alpha } = block;
  if (alpha.alpha === null) return `not enough overlap yet (${alpha.units} items rated by two or more reviewers)`;
  const ci = alpha.ci ? `, ${Math.round(alpha.confidence * 100)}% CI ${fixed(alpha.ci[0], 3)} to ${fixed(alpha.ci[1], 3)}` : '';
  return `${fixed(alpha.alpha, 3)}${ci} · ${alpha.units} items, ${alpha.values} labels, ${alpha.reviewers} reviewers`;
}

const BLOCKS = [
  ['verdicts', 'Trajectory verdicts (nominal)'],
  ['steps', 'Step ratings (ordinal)'],
  ['preferences', 'Preferences (nominal)'],
] as const;

function StatsView({ stats }: { stats: ReviewStats }) {
  const pairs = BLOCKS.flatMap(([key, title]) => stats[key].kappa.map((k) => ({ ...k, title })));
  return (
    <>
      <p className="muted">
        {stats.scope.labels.toLocaleString()} current labels by {stats.scope.reviewers.length} reviewers ({stats.scope.reviewers.length ? <Visible text={stats.scope.reviewers.join(', ')} /> : 'none yet'}).
      </p>
      <div className="panel">
        <h2>Krippendorff’s alpha</h2>
        <dl className="json-object">
          {BLOCKS.map(([key, title]) => (
            <div className="json-entry" key={key}>
              <dt>{title}</dt>
              <dd data-testid={`alpha-${key}`}>{alphaText(stats[key])}</dd>
            </div>
          ))}
        </dl>
      </div>
      <div className="panel">
        <h2>Cohen’s kappa per reviewer pair</h2>
        {pairs.length === 0 ? (
          <p className="muted">No two reviewers have labelled the same items yet.</p>
        ) : (
          <table className="data-table" aria-label="Cohen's kappa">
            <thead>
              <tr>
                <th>Labels</th>
                <th>Reviewers</th>
                <th className="num">Shared items</th>
                <th className="num">Kappa</th>
              </tr>
            </thead>
            <tbody>
              {pairs.map((k) => (
                <tr key={`${k.title}|${k.reviewers.join('|')}`}>
                  <td>{k.title}</td>
                  <td>
                    <Visible text={k.reviewers.join(' & ')} />
                  </td>
                  <td className="num">{k.n}</td>
                  <td className="num">{fixed(k.kappa, 3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="panel">
        <h2>Detectors against experts</h2>
        <p className="muted">
          {stats.detectors.examinedRollouts} of {stats.detectors.reviewedRollouts} reviewed rollouts were examined by the detectors.
        </p>
        <ScoreTable title="Per category (detector flag against the experts’ step flags of that name)" scores={stats.detectors.byCategory} />
        <ScoreTable title="Per detector (any flag against a majority reject or unsafe verdict)" scores={stats.detectors.byDetector} />
      </div>
    </>
  );
}

function ScoreTable({ title, scores }: { title: string; scores: readonly DetectorScore[] }) {
  const shown = scores.filter((s) => s.truePositives + s.falsePositives + s.falseNegatives > 0);
  return (
    <>
      <h3>{title}</h3>
      {shown.length === 0 ? (
        <p className="muted">No flags and no expert findings to compare yet.</p>
      ) : (
        <table className="data-table" aria-label={title}>
          <thead>
            <tr>
              <th>Name</th>
              <th className="num">TP</th>
              <th className="num">FP</th>
              <th className="num">FN</th>
              <th className="num">TN</th>
              <th className="num">Precision</th>
              <th className="num">Recall</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr key={d.name}>
                <td>
                  <Visible text={d.name.replaceAll('_', ' ')} />
                </td>
                <td className="num">{d.truePositives}</td>
                <td className="num">{d.falsePositives}</td>
                <td className="num">{d.falseNegatives}</td>
                <td className="num">{d.trueNegatives}</td>
                <td className="num">{percent(d.precision)}</td>
                <td className="num">{percent(d.recall)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
