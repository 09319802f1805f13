import { memo, useState } from 'react';
import { STEP_FLAGS } from '../../api/constants.ts';
import type { Message } from '../../api/schemas.ts';
import { SeverityBadge, duration } from '../../components/Badges.tsx';
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
      <div className="msg-role">{label}</div>
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
          <SeverityBadge severity={f.severity} /> <strong>{f.category.replaceAll('_', ' ')}</strong> by {f.detector}
          {f.reason ? `: ${f.reason}` : ''}
        </p>
      ))}

      {view.added.map((m, i) => (
        <AddedMessage key={i} message={m} step={position + 1} />
      ))}

      {step.error && (
        <p className="error-box" role="note">
          The call failed ({step.error.kind ?? 'error'}): {step.error.message}
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

      {view.calls.map(({ call, result }) => (
        <div key={call.id} className="tool-call">
          <div className="msg-role">
            tool call <code>{call.name}</code> <span className="muted">{call.id}</span>
            {call.parseError && <span className="badge fail">unparseable: {call.parseError}</span>}
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
      ))}

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
              <span key={l.id} className={`badge rating-${l.rating}`} title={`${l.reviewer} at ${l.createdAt}${l.note ? `: ${l.note}` : ''}`}>
                {l.reviewer}: {ratingText[l.rating]}
                {l.flag ? ` (${l.flag})` : ''}
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
