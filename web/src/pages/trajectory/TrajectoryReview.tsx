// One rollout for reading and labelling: steps in the middle, outcome, flags and verdict beside
// them. Used on its own page and inside a review queue (with the queue's rubric and item).
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useApi, useResource } from '../../api/hooks.ts';
import type { DetectionFlag, Label, RolloutDetail, Rubric, Verdict } from '../../api/schemas.ts';
import { useHotkeys } from '../../app/hotkeys.ts';
import { href, navigate } from '../../app/router.ts';
import { useReviewer } from '../../app/session.ts';
import { useStoreAccess } from '../../app/store-access.ts';
import { Visible } from '../../components/Hidden.tsx';
import { Loaded } from '../../components/States.tsx';
import { buildSteps, flagsOf, verdictHistory, type StepView } from './model.ts';
import { FlagList, RolloutSummary, SiblingBar, VerdictHistory } from './SidePanel.tsx';
import type { Rating } from './StepCard.tsx';
import { StepList } from './StepList.tsx';
import { VerdictForm, emptyDraft, rubricValues, VERDICTS, type VerdictDraft } from './VerdictForm.tsx';

export interface TrajectoryReviewProps {
  rolloutId: string;
  rubric?: Rubric | null;
  queueItemId?: string;
  /** Called after a verdict is stored (a queue advances to its next item). */
  onVerdictSaved?: () => void;
  /** Step position to open at (from `?step=`). */
  initialStep?: number;
}

export function TrajectoryReview(props: TrajectoryReviewProps) {
  const api = useApi();
  const detail = useResource(`rollout:${props.rolloutId}`, (signal) => api.rollout(props.rolloutId, signal));
  return (
    <Loaded resource={detail} what="the trajectory">
      {(data) => <Review key={props.rolloutId} detail={data} {...props} />}
    </Loaded>
  );
}

function Review({ detail, rubric = null, queueItemId, onVerdictSaved, initialStep = 0 }: TrajectoryReviewProps & { detail: RolloutDetail }) {
  const api = useApi();
  const reviewer = useReviewer();
  const { readOnly } = useStoreAccess();
  const rolloutId = detail.rollout.id;
  const [added, setAdded] = useState<Label[]>([]);
  const labels = useMemo(() => mergeLabels(detail.labels, added), [detail.labels, added]);
  const views = useMemo(() => buildSteps(detail.steps, labels), [detail.steps, labels]);
  const flags = useMemo(() => flagsOf(detail), [detail]);
  const positionByIndex = useMemo(() => new Map(detail.steps.map((s, i) => [s.index, i])), [detail.steps]);
  const positionOf = useCallback((callIndex: number) => positionByIndex.get(callIndex) ?? 0, [positionByIndex]);

  const [focused, setFocused] = useState(() => Math.min(Math.max(0, initialStep), Math.max(0, detail.steps.length - 1)));
  const [scrollRequest, setScrollRequest] = useState(initialStep > 0 ? 1 : 0);
  const [allReasoning, setAllReasoning] = useState(false);
  const [reasoningOverride, setReasoningOverride] = useState<Map<number, boolean>>(new Map());
  const [selectedFlag, setSelectedFlag] = useState<DetectionFlag | null>(null);
  const [draft, setDraft] = useState<VerdictDraft>(emptyDraft);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState('');

  const focusStep = useCallback(
    (position: number) => {
      setFocused(Math.max(0, Math.min(views.length - 1, position)));
      setScrollRequest((n) => n + 1);
    },
    [views.length],
  );
  const isReasoningOpen = useCallback((index: number) => reasoningOverride.get(index) ?? allReasoning, [reasoningOverride, allReasoning]);
  const toggleReasoning = useCallback((index: number) => {
    setReasoningOverride((old) => new Map(old).set(index, !(old.get(index) ?? allReasoning)));
  }, [allReasoning]);
  const highlightFor = useCallback(
    (view: StepView) => (selectedFlag && selectedFlag.evidence.callIndex === view.step.index ? selectedFlag.evidence.excerpt : view.flags[0]?.evidence.excerpt),
    [selectedFlag],
  );

  const needReviewer = (): boolean => {
    if (reviewer.name) return false;
    setError('Enter your reviewer name (top right) before labelling.');
    document.getElementById('reviewer-name')?.focus();
    return true;
  };

  const rate = useCallback(
    async ({ view, rating, flag, note }: { view: StepView; rating: Rating; flag: string; note: string }) => {
      if (needReviewer()) return;
      setBusy(true);
      setError(null);
      try {
        const label = await api.labelStep({ rolloutId, callId: view.step.callId, rating, reviewer: reviewer.name, ...(flag ? { flag } : {}), ...(note.trim() ? { note: note.trim() } : {}) });
        setAdded((old) => [...old, label]);
        setNotice(`Rated step ${(positionByIndex.get(view.step.index) ?? 0) + 1}: ${rating > 0 ? '+1' : rating}`);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      } finally {
        setBusy(false);
      }
    },
    [api, rolloutId, reviewer.name, positionByIndex],
  );

  const submitVerdict = async (verdict: Verdict) => {
    if (needReviewer()) return;
    const checked = rubricValues(rubric, draft);
    if (!checked.ok) {
      setError(checked.message);
      document.getElementById(`rubric-${checked.field}`)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const label = await api.labelVerdict({
        rolloutId,
        verdict,
        reviewer: reviewer.name,
        ...(draft.reason.trim() ? { reason: draft.reason.trim() } : {}),
        ...(Object.keys(checked.values).length ? { rubric: checked.values } : {}),
        ...(queueItemId ? { queueItemId } : {}),
      });
      setAdded((old) => [...old, label]);
      setDraft(emptyDraft());
      setNotice(`Verdict saved: ${verdict}`);
      onVerdictSaved?.();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const focusedView = views[focused];
  const flaggedPositions = useMemo(() => views.flatMap((v, i) => (v.flags.length ? [i] : [])), [views]);
  const firstSibling = detail.siblings[0];
  // Labelling keys only where labels can be saved; reading keys always (the help overlay lists what works).
  const labelKeys = readOnly
    ? []
    : [
        ...VERDICTS.map(({ verdict, key, label }) => ({ keys: [key], description: `Verdict: ${label.toLowerCase()}`, run: () => void submitVerdict(verdict) })),
        { keys: ['-'], description: 'Rate the focused step −1', run: () => focusedView && void rate({ view: focusedView, rating: -1, flag: '', note: '' }) },
        { keys: ['0'], description: 'Rate the focused step 0', run: () => focusedView && void rate({ view: focusedView, rating: 0, flag: '', note: '' }) },
        { keys: ['+', '='], description: 'Rate the focused step +1', run: () => focusedView && void rate({ view: focusedView, rating: 1, flag: '', note: '' }) },
      ];
  useHotkeys([
    { keys: ['j'], description: 'Next step', run: () => focusStep(focused + 1) },
    { keys: ['k'], description: 'Previous step', run: () => focusStep(focused - 1) },
    { keys: ['f'], description: 'Next flagged step', run: () => focusStep(flaggedPositions.find((p) => p > focused) ?? flaggedPositions[0] ?? focused) },
    { keys: ['r'], description: 'Show or hide the focused step’s reasoning', run: () => focusedView && toggleReasoning(focusedView.step.index) },
    { keys: ['R'], description: 'Show or hide all reasoning', run: () => (setAllReasoning((v) => !v), setReasoningOverride(new Map())) },
    ...labelKeys,
    { keys: ['s'], description: 'Open the first sibling rollout', run: () => firstSibling && navigate(href(['rollouts', firstSibling.id])) },
    { keys: ['c'], description: 'Compare with the first sibling', run: () => firstSibling && navigate(href(['rollouts', rolloutId, 'compare', firstSibling.id])) },
  ]);

  useEffect(() => {
    if (!notice) return;
    const timer = window.setTimeout(() => setNotice(''), 4000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  const r = detail.rollout;
  return (
    <div className="trajectory">
      <p className="crumbs">
        <a href={href(['runs'])}>Runs</a> / <a href={href(['runs', r.runId])}>
          <Visible text={r.runId} />
        </a>{' '}
        / <Visible text={r.id} />
      </p>
      <h1>
        <Visible text={r.taskId} /> <span className="muted">epoch {r.epoch}</span>
      </h1>
      <p className="muted">
        <Visible text={r.env} /> · <Visible text={r.model} /> · {r.scaffold} · {views.length} steps ·{' '}
        <a href={href(['author'], { rollout: r.id })}>Turn into a task</a>
      </p>
      <SiblingBar rolloutId={r.id} groupId={r.groupId ?? null} siblings={detail.siblings} />
      <div className="trajectory-layout">
        <div className="trajectory-steps">
          <div className="step-toolbar">
            <button type="button" onClick={() => (setAllReasoning((v) => !v), setReasoningOverride(new Map()))} aria-pressed={allReasoning}>
              {allReasoning ? 'Hide all reasoning' : 'Show all reasoning'} <kbd>R</kbd>
            </button>
            <span className="muted">
              <kbd>j</kbd>/<kbd>k</kbd> steps ·{' '}
              {readOnly ? (
                'read only'
              ) : (
                <>
                  <kbd>-</kbd> <kbd>0</kbd> <kbd>+</kbd> rate · <kbd>1</kbd>/<kbd>2</kbd>/<kbd>3</kbd> verdict
                </>
              )}{' '}
              · <kbd>?</kbd> help
            </span>
          </div>
          {views.length === 0 ? (
            <p className="muted">This rollout made no model calls.</p>
          ) : (
            <StepList
              views={views}
              focused={focused}
              scrollRequest={scrollRequest}
              isReasoningOpen={isReasoningOpen}
              onToggleReasoning={toggleReasoning}
              onFocus={setFocused}
              onRate={rate}
              highlightFor={highlightFor}
              ratingBusy={busy}
              ratingLocked={readOnly}
            />
          )}
        </div>
        <aside className="trajectory-side">
          <p className="notice" role="status" aria-live="polite">
            {notice}
          </p>
          <VerdictForm rubric={rubric} draft={draft} setDraft={setDraft} onVerdict={(v) => void submitVerdict(v)} busy={busy} locked={readOnly} error={error} />
          <FlagList
            flags={flags}
            examined={detail.detections.examined}
            positionOf={positionOf}
            onSelect={(flag) => {
              setSelectedFlag(flag);
              focusStep(positionOf(flag.evidence.callIndex));
            }}
          />
          <RolloutSummary detail={detail} />
          <VerdictHistory verdicts={verdictHistory(labels)} />
        </aside>
      </div>
    </div>
  );
}

function mergeLabels(stored: readonly Label[], added: readonly Label[]): Label[] {
  const ids = new Set(stored.map((l) => l.id));
  return [...stored, ...added.filter((l) => !ids.has(l.id))];
}
