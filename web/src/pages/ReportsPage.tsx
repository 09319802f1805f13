import { z } from 'zod';
import { useApi, useResource } from '../api/hooks.ts';
import { href } from '../app/router.ts';
import { percent, when } from '../components/Badges.tsx';
import { Visible } from '../components/Hidden.tsx';
import { JsonView } from '../components/JsonView.tsx';
import { Loaded } from '../components/States.tsx';

export function ReportsPage() {
  const api = useApi();
  const reports = useResource('reports', (signal) => api.reports(signal));
  return (
    <section aria-labelledby="reports-title">
      <h1 id="reports-title">Reports</h1>
      <Loaded resource={reports} what="reports">
        {({ items }) =>
          items.length === 0 ? (
            <p className="muted">No reports yet: `gauntlet eval`, `compare` and `robustness` write them into the store’s reports/ folder.</p>
          ) : (
            <table className="data-table" aria-label="Reports">
              <thead>
                <tr>
                  <th>Report</th>
                  <th>Kind</th>
                  <th>Written</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr key={r.name}>
                    <td>
                      <a href={href(['reports', r.name])}>{r.name}</a>
                    </td>
                    <td>{r.kind ?? <span className="muted" title={r.problem}>not a report</span>}</td>
                    <td>{when(r.modifiedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}

export function ReportPage({ name }: { name: string }) {
  const api = useApi();
  const report = useResource(`report:${name}`, (signal) => api.report(name, signal));
  return (
    <section aria-labelledby="report-title">
      <p className="crumbs">
        <a href={href(['reports'])}>Reports</a> / <Visible text={name} />
      </p>
      <h1 id="report-title">
        <Visible text={name} />
      </h1>
      <Loaded resource={report} what="the report">
        {(data) => (
          <div className="report" data-testid="report">
            <p className="muted">{data.kind} report</p>
            {data.kind === 'eval' && <EvalHeadline report={data.report} />}
            <JsonView value={data.report} />
          </div>
        )}
      </Loaded>
    </section>
  );
}

// The lines of an eval report a reader looks for first; the whole report follows as data.
const EvalHeadlineShape = z.looseObject({
  models: z.array(
    z.looseObject({
      runId: z.string(),
      model: z.string(),
      overall: z.looseObject({
        n: z.number(),
        passRate: z
          .looseObject({
            mean: z.number(),
            ci: z.tuple([z.number(), z.number()]),
            degenerate: z.boolean().optional(),
            exact: z.looseObject({ ci: z.tuple([z.number(), z.number()]) }).nullable().optional(),
          })
          .nullable(),
      }),
    }),
  ),
  warnings: z.array(z.string()).optional(),
});

type PassRate = z.infer<typeof EvalHeadlineShape>['models'][number]['overall']['passRate'];

/** The bootstrap interval, or the exact one where the bootstrap's has zero width (never a certain [x, x]). */
function interval(rate: PassRate): string {
  if (!rate) return '—';
  if (rate.degenerate) return rate.exact ? `${percent(rate.exact.ci[0])} – ${percent(rate.exact.ci[1])} (exact)` : 'not estimable';
  return `${percent(rate.ci[0])} – ${percent(rate.ci[1])}`;
}

function EvalHeadline({ report }: { report: unknown }) {
  const parsed = EvalHeadlineShape.safeParse(report);
  if (!parsed.success) return null;
  const { models, warnings = [] } = parsed.data;
  return (
    <div className="panel">
      <table className="data-table" aria-label="Pass rate per model">
        <thead>
          <tr>
            <th>Model</th>
            <th>Run</th>
            <th className="num">Tasks scored</th>
            <th className="num">Pass rate (mean over tasks)</th>
            <th className="num">Interval</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={m.runId}>
              <td>
                <Visible text={m.model} />
              </td>
              <td>
                <a href={href(['runs', m.runId])}>
                  <Visible text={m.runId} />
                </a>
              </td>
              <td className="num">{m.overall.n}</td>
              <td className="num">{percent(m.overall.passRate?.mean)}</td>
              <td className="num">{interval(m.overall.passRate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {warnings.length > 0 && (
        <ul className="warnings">
          {warnings.map((w) => (
            <li key={w}>
              <Visible text={w} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
