import type { CheckResult } from '../api/schemas.ts';
import { Visible } from './Hidden.tsx';

/**
 * Verifier check results, each marked passed or failed with what it said. Names and details come
 * from task files and environments, so their hidden characters are shown.
 */
export function CheckList({ checks, label, showKind = false }: { checks: readonly CheckResult[]; label?: string; showKind?: boolean }) {
  return (
    <ul className="checks" aria-label={label}>
      {checks.map((c) => (
        <li key={c.name} className={c.passed ? 'pass' : 'fail'}>
          {c.passed ? '✓' : '✗'}{' '}
          {showKind && (
            <>
              <span className="muted">{c.kind}</span>{' '}
            </>
          )}
          <Visible text={c.name} />
          {c.detail ? (
            <span className="muted">
              {' '}
              — <Visible text={c.detail} />
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
