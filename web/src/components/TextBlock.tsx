// Model and tool text is shown as text, never parsed as HTML: React escapes it, and nothing here
// uses innerHTML. Characters that cannot be seen (bidi overrides, zero-width, terminal escapes)
// are shown as marks. Long text is cut to its first lines until the reader asks for the rest,
// which keeps a 100-turn trajectory with megabytes of tool output cheap to lay out; detector
// evidence inside long text is shown in place with the text around it, never by laying out it all.
import { useState } from 'react';
import { revealHidden } from './Hidden.tsx';

const PREVIEW_LINES = 24;
const PREVIEW_CHARS = 4000;
/** Characters kept on each side of detector evidence in text too long to show whole. */
const EVIDENCE_CONTEXT = 1500;

/** `at` moved back off the second half of a surrogate pair, so a cut never makes a lone surrogate. */
function cutAt(text: string, at: number): number {
  const code = text.charCodeAt(at);
  const before = text.charCodeAt(at - 1);
  return at > 0 && code >= 0xdc00 && code <= 0xdfff && before >= 0xd800 && before <= 0xdbff ? at - 1 : at;
}

export function preview(text: string): { shown: string; hiddenLines: number; cut: boolean } {
  let end = 0;
  let lines = 0;
  while (lines < PREVIEW_LINES && end < text.length && end < PREVIEW_CHARS) {
    const next = text.indexOf('\n', end);
    if (next === -1) {
      end = text.length;
      break;
    }
    end = next + 1;
    lines += 1;
  }
  end = cutAt(text, Math.min(end, PREVIEW_CHARS, text.length));
  if (end >= text.length) return { shown: text, hiddenLines: 0, cut: false };
  const rest = text.slice(end);
  return { shown: text.slice(0, end), hiddenLines: rest.split('\n').length, cut: true };
}

/** The stretch of `text` around the evidence at `at`: the whole text when it is short. */
export function aroundEvidence(text: string, at: number, length: number): { start: number; end: number } {
  if (text.length <= PREVIEW_CHARS + 2 * EVIDENCE_CONTEXT) return { start: 0, end: text.length };
  return { start: cutAt(text, Math.max(0, at - EVIDENCE_CONTEXT)), end: cutAt(text, Math.min(text.length, at + length + EVIDENCE_CONTEXT)) };
}

/** Splits `text` around the first occurrence of `excerpt` so it can be marked; hidden characters made visible. */
function marked(text: string, excerpt: string | undefined) {
  const at = excerpt ? text.indexOf(excerpt) : -1;
  if (!excerpt || at === -1) return revealHidden(text);
  return [
    ...revealHidden(text.slice(0, at)),
    <mark key="m" className="evidence">
      {revealHidden(excerpt)}
    </mark>,
    ...revealHidden(text.slice(at + excerpt.length)),
  ];
}

export function TextBlock({ text, label, highlight, className }: { text: string; label: string; highlight?: string; className?: string }) {
  const [expanded, setExpanded] = useState(false);
  if (text === '') return <p className="empty-text">(empty)</p>;
  const at = highlight ? text.indexOf(highlight) : -1;
  let shown: string;
  let before = 0;
  let after = 0;
  let hiddenLines = 0;
  if (expanded) {
    shown = text;
  } else if (at >= 0) {
    // Evidence must be visible, so text holding it is shown from around it.
    const { start, end } = aroundEvidence(text, at, highlight!.length);
    shown = text.slice(start, end);
    before = start;
    after = text.length - end;
  } else {
    const cut = preview(text);
    shown = cut.shown;
    after = text.length - shown.length;
    hiddenLines = cut.hiddenLines;
  }
  return (
    <div className={`text-block ${className ?? ''}`}>
      {before > 0 && <p className="muted cut-note">… {before.toLocaleString()} characters before the evidence</p>}
      <pre aria-label={label}>{marked(shown, highlight)}</pre>
      {(before > 0 || after > 0) && (
        <button type="button" className="link-button" onClick={() => setExpanded(true)}>
          Show all ({before > 0 ? `${after.toLocaleString()} characters after, ` : `${hiddenLines.toLocaleString()} more lines, `}
          {text.length.toLocaleString()} characters)
        </button>
      )}
      {expanded && (
        <button type="button" className="link-button" onClick={() => setExpanded(false)}>
          Show less
        </button>
      )}
    </div>
  );
}
