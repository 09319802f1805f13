// Two sibling rollouts of one task side by side, in random order, scores hidden until the
// reader chooses: the preference records which rollout was shown where and which was preferred.
import { useMemo, useState } from 'react';
import { useApi, useResource } from '../api/hooks.ts';
import type { Side } from '../api/client.ts';
import type { RolloutDetail } from '../api/schemas.ts';
import { useHotkeys } from '../app/hotkeys.ts';
import { href } from '../app/router.ts';
import { useReviewer } from '../app/session.ts';
import { READ_ONLY_HINT, useStoreAccess } from '../app/store-access.ts';
import { PassBadge, StatusBadge, fixed } from '../components/Badges.tsx';
import { Visible } from '../components/Hidden.tsx';
import { Loaded } from '../components/States.tsx';
import { buildSteps } from './trajectory/model.ts';
import { StepList } from './trajectory/StepList.tsx';

type Choice = 'A' | 'B' | 'tie';

/** Which of the pair is shown first (as A, on the left): a fair coin per page visit. */
function randomOrder(): [Side, Side] {
  const [byte = 0] = crypto.getRandomValues(new Uint8Array(1));
  return byte & 1 ? ['right', 'left'] : ['left', 'right'];
}

export function ComparePage({ rolloutId, otherId }: { rolloutId: string; otherId: string }) {
  const api = useApi();
  const pair = useResource(`compare:${rolloutId}:${otherId}`, (signal) => Promise.all([api.rollout(rolloutId, signal), api.rollout(otherId, signal)]));
  return (
    <section aria-labelledby="compare-title">
      <h1 id="compare-title">Compare sibling rollouts</h1>
      <Loaded resource={pair} what="both rollouts">
        {([left, right]) => <Comparison key={`${rolloutId}:${otherId}`} left={left} right={right} />}
      </Loaded>
    </section>
  );
}

function Comparison({ left, right }: { left: RolloutDetail; right: RolloutDetail }) {
  const api = useApi();
  const reviewer = useReviewer();
  const { readOnly } = useStoreAccess();
  const shownOrder = useMemo(randomOrder, []);
  const shown = shownOrder.map((side) => (side === 'left' ? left : right)) as [RolloutDetail, RolloutDetail];
  const [reason, setReason] = useState('');
  const [recorded, setRecorded] = useState<Choice | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sameTask = left.rollout.taskId === right.rollout.taskId;

  const choose = async (choice: Choice) => {
    if (busy || recorded) return;
    if (!reviewer.name) {
      setError('Enter your reviewer name (top right) before recording a preference.');
      document.getElementById('reviewer-name')?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.labelPreference({
        taskId: left.rollout.taskId,
        leftRolloutId: left.rollout.id,
        rightRolloutId: right.rollout.id,
        shownOrder,
        choice,
        reviewer: reviewer.name,
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      });
      setRecorded(choice);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  useHotkeys(
    sameTask && !readOnly
      ? [
          { keys: ['a'], description: 'Prefer A (left)', run: () => void choose('A') },
          { keys: ['b'], description: 'Prefer B (right)', run: () => void choose('B') },
          { keys: ['t'], description: 'Tie', run: () => void choose('tie') },
        ]
      : [],
  );

  if (!sameTask) {
    return (
      <p className="error-box" role="alert">
        These rollouts are of different tasks (<Visible text={left.rollout.taskId} /> and <Visible text={right.rollout.taskId} />); only siblings of one task can be compared.
      </p>
    );
  }
  return (
    <>
      <p className="muted">
        Task{' '}
        <strong>
          <Visible text={left.rollout.taskId} />
        </strong>{' '}
        · run{' '}
        <a href={href(['runs', left.rollout.runId])}>
          <Visible text={left.rollout.runId} />
        </a>{' '}
        ·{' '}
        {/* No preference can be recorded, so there is no choice for the scores to bias. */}
        {readOnly ? 'order randomised; scores shown, as no preference can be recorded.' : 'order randomised; scores hidden until you choose.'}
      </p>
      <form className="preference" aria-label="Preference" onSubmit={(e) => e.preventDefault()}>
        {readOnly && (
          <p className="locked-hint" data-testid="preference-locked">
            {READ_ONLY_HINT}
          </p>
        )}
        <fieldset className="plain" disabled={readOnly}>
          <label className="stacked">
            <span>Reason (optional)</span>
            <input type="text" value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          <div className="verdict-buttons">
            <button type="button" disabled={busy || readOnly || recorded !== null} onClick={() => void choose('A')}>
              A is better <kbd>a</kbd>
            </button>
            <button type="button" disabled={busy || readOnly || recorded !== null} onClick={() => void choose('tie')}>
              Tie <kbd>t</kbd>
            </button>
            <button type="button" disabled={busy || readOnly || recorded !== null} onClick={() => void choose('B')}>
              B is better <kbd>b</kbd>
            </button>
          </div>
        </fieldset>
        {recorded && (
          <p className="notice" role="status" data-testid="preference-recorded">
            Preference recorded: {recorded === 'tie' ? 'tie' : `${recorded} preferred`}.
          </p>
        )}
        {error && (
          <p className="error-box" role="alert">
            {error}
          </p>
        )}
      </form>
      <div className="compare-grid">
        {shown.map((detail, i) => (
          <Side key={detail.rollout.id} name={i === 0 ? 'A' : 'B'} detail={detail} revealed={recorded !== null || readOnly} />
        ))}
      </div>
    </>
  );
}

function Side({ name, detail, revealed }: { name: 'A' | 'B'; detail: RolloutDetail; revealed: boolean }) {
  const views = useMemo(() => buildSteps(detail.steps, []), [detail]);
  const [focused, setFocused] = useState(0);
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const toggle = (index: number) => setOpen((old) => (old.has(index) ? new Set([...old].filter((i) => i !== index)) : new Set([...old, index])));
  const r = detail.rollout;
  return (
    <div className="compare-side" data-testid={`side-${name}`}>
      <h2>
        {name}{' '}
        {revealed ? (
          <span className="muted">
            <a href={href(['rollouts', r.id])}>
              <Visible text={r.id} />
            </a>{' '}
            · epoch {r.epoch} · <StatusBadge status={r.status} /> <PassBadge passed={r.passed} /> {fixed(r.score, 2)}
          </span>
        ) : (
          <span className="muted">{views.length} steps · ended by {r.terminationReason}</span>
        )}
      </h2>
      <StepList
        label={`Steps of ${name}`}
        views={views}
        focused={focused}
        scrollRequest={0}
        isReasoningOpen={(index) => open.has(index)}
        onToggleReasoning={toggle}
        onFocus={setFocused}
        onRate={() => {}}
        highlightFor={(v) => v.flags[0]?.evidence.excerpt}
        ratingBusy={false}
        readOnly
      />
    </div>
  );
}
