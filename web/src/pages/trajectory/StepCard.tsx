import { memo, useMemo, useState } from 'react';
import { STEP_FLAGS } from '../../api/constants.ts';
import type { Message } from '../../api/schemas.ts';
import { SeverityBadge, duration } from '../../components/Badges.tsx';
import { Visible, visibleText } from '../../components/Hidden.tsx';
import { TextBlock } from '../../components/TextBlock.tsx';
import { READ_ONLY_HINT } from '../../app/store-access.ts';
import type { StepView } from './model.ts';

export type Rating = -1 | 0 | 1;

export interface StepCardProps {
  view: StepView;
  /** Position in the list (the step number shown). */
  position: number;
  focused: boolean;
  reasoningOpen: boolean;
  onToggleReasoning: (index: number) => void;
  onRate: (input: { view: StepView; rating: Rating; flag: string; note: string }) => void;
  onFocus: (position: number) => void;
  /** The flag excerpt to mark in this step's text. */
  highlight: string | undefined;
  ratingBusy: boolean;
  /** The store is read-only: other reviewers' ratings are shown, the controls disabled. */
  ratingLocked?: boolean;
  /** Hides the rating controls (side-by-side comparison). */
  readOnly?: boolean;
}

const ratingText: Record<Rating, string> = { [-1]: '−1', 0: '0', 1: '+1' };

/**
 * Tool calls (and added messages) a card mounts before the reader asks for more: one response with
 * 100,000 tool calls must not lay out 100,000 blocks at once and freeze the page.
 */
export const ITEMS_SHOWN_AT_FIRST = 50;
const ITEMS_SHOWN_PER_CLICK = 200;

/** Indexes of `items` to mount: the first `limit`, plus any holding the evidence (it must be seen wherever it is). */
function shownIndexes<T>(items: readonly T[], limit: number, holdsEvidence: (item: T) => boolean): number[] {
  const out: number[] = [];
  items.forEach((item, i) => {
    if (i < limit || holdsEvidence(item)) out.push(i);
  });
  return out;
}

function MoreButton({ hidden, what, onMore }: { hidden: number; what: string; onMore: () => void }) {
  if (hidden <= 0) return null;
  return (
    <button type="button" className="link-button more-items" onClick={onMore}>
      Show {Math.min(hidden, ITEMS_SHOWN_PER_CLICK).toLocaleString()} more {what} ({hidden.toLocaleString()} not shown)
    </button>
  );
}

function AddedMessage({ message, step }: { message: Message; step: number }) {
  if (message.role === 'assistant') {
    return (
      <div className="msg msg-assistant">
        <div className="msg-role">assistant (earlier output, as resent)</div>
        <TextBlock text={message.content} label={`Step ${step} resent assistant message`} />
      </div>
    );
  }
  const label = message.role === 'tool' ? `tool result · ${message.name}` : message.role;
  return (
    <div className={`msg msg-${message.role}`}>
      <div className="msg-role">{message.role === 'tool' ? <>tool result · <Visible text={message.name} /></> : label}</div>
      <TextBlock text={message.content} label={`Step ${step} ${label} message`} />
    </div>
  );
}

function StepCardImpl(props: StepCardProps) {
  const { view, position, focused, reasoningOpen, highlight } = props;
  const { step } = view;
  const [flag, setFlag] = useState('');
  const [note, setNote] = useState('');
  const response = step.response;
  const reasoning = response?.reasoning ?? '';
  const latest = latestPerReviewer(view.ratings);
  const tokens = [
    step.usage.promptTokens !== undefined ? `${step.usage.promptTokens.toLocaleString()} in` : null,
    step.usage.completionTokens !== undefined ? `${step.usage.completionTokens.toLocaleString()} out` : null,
    step.usage.reasoningTokens !== undefined ? `${step.usage.reasoningTokens.toLocaleString()} reasoning` : null,
  ].filter(Boolean);
  const rate = (rating: Rating) => props.onRate({ view, rating, flag, note });
  const locked = props.ratingLocked === true;
  const [limit, setLimit] = useState(ITEMS_SHOWN_AT_FIRST);
  const calls = useMemo(
    () => shownIndexes(view.calls, limit, ({ call, result }) => Boolean(highlight && (call.argumentsText.includes(highlight) || result?.content.includes(highlight)))),
    [view.calls, limit, highlight],
  );
  const added = useMemo(() => shownIndexes(view.added, limit, (m) => Boolean(highlight && m.content.includes(highlight))), [view.added, limit, highlight]);
  const more = () => setLimit((n) => n + ITEMS_SHOWN_PER_CLICK);

  return (
    <article
      className={`step${focused ? ' focused' : ''}${view.flags.length ? ' flagged' : ''}`}
      aria-labelledby={`step-${position}-title`}
      data-testid="step"
      data-step-index={step.index}
      onClick={() => props.onFocus(position)}
    >
      <header className="step-head">
        <h3 id={`step-${position}-title`}>
          Step {position + 1}
          {step.purpose !== 'turn' && <span className="badge muted">{step.purpose}</span>}
        </h3>
        <span className="muted">
          {duration(step.latencyMs)}
          {tokens.length ? ` · ${tokens.join(' · ')} tokens` : ''}
          {response?.finishReason ? ` · ${response.finishReason}` : ''}
        </span>
      </header>

      {view.flags.map((f, i) => (
        <p key={i} className="flag-note" role="note">
          <SeverityBadge severity={f.severity} /> <strong>{f.category.replaceAll('_', ' ')}</strong> by <Visible text={f.detector} />
          {f.reason ? <>: <Visible text={f.reason} /></> : ''}
        </p>
      ))}

      {added.map((i) => (
        <AddedMessage key={i} message={view.added[i]!} step={position + 1} />
      ))}
      <MoreButton hidden={view.added.length - added.length} what="messages" onMore={more} />

      {step.error && (
        <p className="error-box" role="note">
          The call failed ({step.error.kind ?? 'error'}): <Visible text={step.error.message} />
        </p>
      )}

      {reasoning && (
        <div className="reasoning">
          <button type="button" className="link-button" aria-expanded={reasoningOpen} onClick={() => props.onToggleReasoning(step.index)}>
            {reasoningOpen ? '▾ Reasoning' : `▸ Reasoning (${reasoning.length.toLocaleString()} characters)`}
          </button>
          {reasoningOpen && <TextBlock text={reasoning} label={`Step ${position + 1} reasoning`} highlight={highlight} className="reasoning-text" />}
        </div>
      )}

      {response && response.content && (
        <div className="msg msg-assistant">
          <div className="msg-role">assistant</div>
          <TextBlock text={response.content} label={`Step ${position + 1} reply`} highlight={highlight} />
        </div>
      )}

      {calls.map((i) => {
        const { call, result } = view.calls[i]!;
        return (
        <div key={i} className="tool-call" data-testid="tool-call">
          <div className="msg-role">
            tool call{' '}
            <code>
              <Visible text={call.name} />
            </code>{' '}
            <span className="muted">
              <Visible text={call.id} />
            </span>
            {call.parseError && (
              <span className="badge fail">
                unparseable: <Visible text={call.parseError} />
              </span>
            )}
          </div>
          <TextBlock text={prettyArguments(call.arguments, call.argumentsText, highlight)} label={`Step ${position + 1} ${call.name} arguments`} highlight={highlight} />
          {result ? (
            <div className={`tool-result${result.ok ? '' : ' is-error'}`}>
              <div className="msg-role">result{result.ok ? '' : ' (error)'}</div>
              <TextBlock text={result.content} label={`Step ${position + 1} ${call.name} result`} highlight={highlight} />
            </div>
          ) : (
            <p className="muted">No result recorded (the episode ended first).</p>
          )}
        </div>
        );
      })}
      <MoreButton hidden={view.calls.length - calls.length} what="tool calls" onMore={more} />

      {!props.readOnly && (
      <footer className="step-rating" onClick={(e) => e.stopPropagation()}>
        <span id={`rate-${position}`} title={locked ? READ_ONLY_HINT : undefined}>
          Rate this step{locked ? ' (read-only store)' : ''}
        </span>
        <div role="group" aria-labelledby={`rate-${position}`}>
          {([-1, 0, 1] as const).map((r) => (
            <button key={r} type="button" disabled={props.ratingBusy || locked} aria-label={`Rate step ${position + 1} ${ratingText[r]}`} className={`rate rate-${r}`} onClick={() => rate(r)}>
              {ratingText[r]}
            </button>
          ))}
        </div>
        <label>
          <span className="sr-only">Flag for step {position + 1}</span>
          <select value={flag} disabled={locked} onChange={(e) => setFlag(e.target.value)} aria-label={`Flag for step ${position + 1}`}>
            <option value="">no flag</option>
            {STEP_FLAGS.map((f) => (
              <option key={f} value={f}>
                {f.replaceAll('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <input type="text" value={note} disabled={locked} placeholder="note (optional)" aria-label={`Note for step ${position + 1}`} onChange={(e) => setNote(e.target.value)} />
        {latest.length > 0 && (
          <span className="ratings" data-testid="step-ratings">
            {latest.map((l) => (
              <span key={l.id} className={`badge rating-${l.rating}`} title={visibleText(`${l.reviewer} at ${l.createdAt}${l.note ? `: ${l.note}` : ''}`)}>
                <Visible text={l.reviewer} />: {ratingText[l.rating]}
                {l.flag ? <> (<Visible text={l.flag} />)</> : ''}
              </span>
            ))}
          </span>
        )}
      </footer>
      )}
    </article>
  );
}

export const StepCard = memo(StepCardImpl);

function latestPerReviewer<T extends { reviewer: string }>(newestFirst: readonly T[]): T[] {
  const seen = new Set<string>();
  return newestFirst.filter((l) => (seen.has(l.reviewer) ? false : (seen.add(l.reviewer), true)));
}

/** Pretty-printed for reading, unless the raw text (what the model wrote) holds evidence the pretty form would hide. */
function prettyArguments(parsed: Record<string, unknown> | null, text: string, evidence: string | undefined): string {
  if (parsed === null) return text;
  const pretty = JSON.stringify(parsed, null, 2);
  if (evidence && text.includes(evidence) && !pretty.includes(evidence)) return text;
  return pretty;
}
