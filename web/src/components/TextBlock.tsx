// Model and tool text is shown as text, never parsed as HTML: React escapes it, and nothing here
// uses innerHTML. Long text is cut to its first lines until the reader asks for the rest, which
// keeps a 100-turn trajectory with megabytes of tool output cheap to lay out.
import { useState } from 'react';

const PREVIEW_LINES = 24;
const PREVIEW_CHARS = 4000;

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
  end = Math.min(end, PREVIEW_CHARS, text.length);
  if (end >= text.length) return { shown: text, hiddenLines: 0, cut: false };
  const rest = text.slice(end);
  return { shown: text.slice(0, end), hiddenLines: rest.split('\n').length, cut: true };
}

/** Splits `text` around the first occurrence of `excerpt` so it can be marked. */
function marked(text: string, excerpt: string | undefined) {
  if (!excerpt) return [text];
  const at = text.indexOf(excerpt);
  if (at === -1) return [text];
  return [
    text.slice(0, at),
    <mark key="m" className="evidence">
      {excerpt}
    </mark>,
    text.slice(at + excerpt.length),
  ];
}

export function TextBlock({ text, label, highlight, className }: { text: string; label: string; highlight?: string; className?: string }) {
  const [expanded, setExpanded] = useState(false);
  // Evidence must be visible, so text holding it is shown whole.
  const mustShowAll = Boolean(highlight && text.includes(highlight));
  const { shown, hiddenLines, cut } = expanded || mustShowAll ? { shown: text, hiddenLines: 0, cut: false } : preview(text);
  if (text === '') return <p className="empty-text">(empty)</p>;
  return (
    <div className={`text-block ${className ?? ''}`}>
      <pre aria-label={label}>{marked(shown, highlight)}</pre>
      {cut && (
        <button type="button" className="link-button" onClick={() => setExpanded(true)}>
          Show all ({hiddenLines.toLocaleString()} more lines, {text.length.toLocaleString()} characters)
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
