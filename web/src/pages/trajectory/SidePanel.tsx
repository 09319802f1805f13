import type { DetectionFlag, RolloutDetail, RolloutRow, VerdictLabel } from '../../api/schemas.ts';
import { href } from '../../app/router.ts';
import { PassBadge, SeverityBadge, StatusBadge, compact, duration, fixed, when } from '../../components/Badges.tsx';
import { CheckList } from '../../components/CheckList.tsx';
import { Visible } from '../../components/Hidden.tsx';

export function SiblingBar({ rolloutId, groupId, siblings }: { rolloutId: string; groupId: string | null; siblings: readonly RolloutRow[] }) {
  if (siblings.length === 0) return <p className="muted siblings">No sibling rollouts (this task ran once in this run).</p>;
  return (
    <nav className="siblings" aria-label="Sibling rollouts of the same task">
      <span>Siblings:</span>
      {siblings.map((s) => (
        <span key={s.id} className="sibling">
          <a href={href(['rollouts', s.id])} title={`epoch ${s.epoch}${s.groupId !== null && s.groupId === groupId ? ', same group' : ''}`}>
            #{s.epoch} <StatusBadge status={s.status} /> {s.passed === null ? '' : s.passed ? '✓' : '✗'} {fixed(s.score, 2)}
          </a>
          <a className="compare-link" href={href(['rollouts', rolloutId, 'compare', s.id])} aria-label={`Compare with sibling epoch ${s.epoch}`}>
            compare
          </a>
        </span>
      ))}
    </nav>
  );
}

/** "12 model calls, 3.4K tokens in / 210 out over 2 attempts": what the rollout cost, every attempt included. */
function spentText(spent: NonNullable<RolloutDetail['rollout']['spent']>): string {
  const calls = `${spent.modelCalls.toLocaleString()} model call${spent.modelCalls === 1 ? '' : 's'}`;
  const retried = spent.attempts > 1 ? ` over ${spent.attempts} attempts` : '';
  return `${calls}, ${compact(spent.promptTokens)} tokens in / ${compact(spent.completionTokens)} out${retried}`;
}

export function RolloutSummary({ detail }: { detail: RolloutDetail }) {
  const r = detail.rollout;
  const checks = detail.verifier?.checks ?? [];
  return (
    <section aria-labelledby="summary-title" className="panel">
      <h2 id="summary-title">Outcome</h2>
      <p>
        <StatusBadge status={r.status} /> <PassBadge passed={r.passed} /> score {fixed(r.score, 3)} · ended by <strong>{r.terminationReason}</strong> · {duration(r.durationMs)} · attempt {r.attempt}
        {r.spent && <span data-testid="rollout-spent"> · {spentText(r.spent)}</span>}
      </p>
      {r.error && (
        <p className="error-box" role="note">
          {r.error.source ?? 'error'}: <Visible text={r.error.message} />
        </p>
      )}
      {r.perturbations.length > 0 && (
        <p className="muted">
          Perturbations: <Visible text={r.perturbations.map((p) => p.name).join(', ')} />
        </p>
      )}
      {detail.rewardTerms.length > 0 && (
        <table className="data-table" aria-label="Reward terms">
          <thead>
            <tr>
              <th>term</th>
              <th>source</th>
              <th className="num">value</th>
              <th className="num">weight</th>
            </tr>
          </thead>
          <tbody>
            {detail.rewardTerms.map((t) => (
              <tr key={t.name}>
                <td>
                  <Visible text={t.name} />
                </td>
                <td>
                  <Visible text={t.source} />
                </td>
                <td className="num">{fixed(t.value, 3)}</td>
                <td className="num">{fixed(t.weight, 2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {checks.length > 0 && (
        <CheckList checks={checks} label="Verifier checks" showKind />
      )}
    </section>
  );
}

export interface FlagListProps {
  flags: readonly DetectionFlag[];
  /** Whether the detectors examined this rollout at all: "no flags" and "not examined" differ. */
  examined: boolean;
  positionOf: (callIndex: number) => number;
  onSelect: (flag: DetectionFlag) => void;
}

export function FlagList({ flags, examined, positionOf, onSelect }: FlagListProps) {
  return (
    <section aria-labelledby="flags-title" className="panel">
      <h2 id="flags-title">Detector flags ({flags.length})</h2>
      {flags.length === 0 ? (
        <p className="muted">{examined ? 'None: the detectors examined this rollout and flagged nothing.' : 'The detectors have not examined this rollout (gauntlet detect).'}</p>
      ) : (
        <ul className="flag-list">
          {flags.map((f, i) => (
            <li key={i}>
              <button type="button" className="link-button" onClick={() => onSelect(f)} data-testid="flag-link">
                <SeverityBadge severity={f.severity} /> {f.category.replaceAll('_', ' ')} · step {positionOf(f.evidence.callIndex) + 1}
              </button>
              <div className="muted">
                <Visible text={f.detector} />
                {f.reason ? <> — <Visible text={f.reason} /></> : ''}
              </div>
              <q className="excerpt">
                <Visible text={shortExcerpt(f.evidence.excerpt)} />
              </q>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The excerpt's first 159 characters, never ending on half a surrogate pair. */
function shortExcerpt(excerpt: string): string {
  if (excerpt.length <= 160) return excerpt;
  const cut = excerpt.slice(0, 159);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

export function VerdictHistory({ verdicts }: { verdicts: readonly VerdictLabel[] }) {
  return (
    <section aria-labelledby="history-title" className="panel">
      <h2 id="history-title">Verdicts ({verdicts.length})</h2>
      {verdicts.length === 0 ? (
        <p className="muted">No verdicts yet.</p>
      ) : (
        <ul className="history" data-testid="verdict-history">
          {verdicts.map((v) => (
            <li key={v.id}>
              <span className={`badge verdict-${v.verdict}`}>{v.verdict}</span> <Visible text={v.reviewer} /> <span className="muted">{when(v.createdAt)}</span>
              {v.reason ? (
                <div>
                  <Visible text={v.reason} />
                </div>
              ) : null}
              {v.rubric && Object.keys(v.rubric).length > 0 ? (
                <div className="muted">
                  <Visible
                    text={Object.entries(v.rubric)
                      .map(([k, val]) => `${k}: ${String(val)}`)
                      .join(' · ')}
                  />
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
