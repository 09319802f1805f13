// Model and tool text is shown as text, never parsed as HTML: React escapes it, and nothing here
// uses innerHTML. Characters that cannot be seen (bidi overrides, zero-width, terminal escapes)
// are shown as marks. Long text is cut to its first lines until the reader asks for the rest,
// which keeps a 100-turn trajectory with megabytes of tool output cheap to lay out; detector
// evidence inside long text is shown in place with the text around it, never by laying out it all.
// "Show all" on text of megabytes reveals it a piece at a time, and offers the whole to copy or download.
import { Fragment, memo, useState, type ReactNode } from 'react';
import { revealHidden } from './Hidden.tsx';

const PREVIEW_LINES = 24;
const PREVIEW_CHARS = 4000;
/** Characters kept on each side of detector evidence in text too long to show whole. */
const EVIDENCE_CONTEXT = 1500;
/** "Show all" on longer text reveals it this much at a time: laying out megabytes at once freezes the page. */
const PIECE_CHARS = 256 * 1024;

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

/** The evidence's place in the whole text, so each piece marks its own part of it. */
interface Span {
  start: number;
  end: number;
}

/** `part` (which starts at `offset` in the whole text) with its share of the evidence marked and hidden characters made visible. */
function marked(part: string, offset: number, evidence: Span | null): ReactNode {
  const from = evidence ? Math.max(0, evidence.start - offset) : 0;
  const to = evidence ? Math.min(part.length, evidence.end - offset) : 0;
  if (from >= to) return revealHidden(part);
  // Keyed fragments: each call numbers its marks from 0.
  return [
    <Fragment key="before">{revealHidden(part.slice(0, from))}</Fragment>,
    <mark key="m" className="evidence">
      {revealHidden(part.slice(from, to))}
    </mark>,
    <Fragment key="after">{revealHidden(part.slice(to))}</Fragment>,
  ];
}

/** Where piece `k` starts: fixed boundaries (never inside a surrogate pair), so pieces on the page are never redrawn. */
const pieceStart = (text: string, k: number) => (k === 0 ? 0 : Math.min(text.length, cutAt(text, k * PIECE_CHARS)));

/** One piece of a long text; memoised, so revealing the next piece lays out only that one. */
const Piece = memo(function Piece({ text, k, evidenceStart, evidenceEnd }: { text: string; k: number; evidenceStart: number; evidenceEnd: number }) {
  const start = pieceStart(text, k);
  return <>{marked(text.slice(start, pieceStart(text, k + 1)), start, evidenceStart < evidenceEnd ? { start: evidenceStart, end: evidenceEnd } : null)}</>;
});

/** A file name from a label that may hold anything the model wrote. */
const fileName = (label: string) => `${label.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'output'}.txt`;

/** Copy and download the whole of a text too long to lay out at once. */
function WholeText({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName(label);
    link.click();
    // Revoked later, not at once: the download reads the blob after the click returns.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
  return (
    <span className="whole-text">
      {/* The clipboard exists only on secure pages (localhost or https). */}
      {typeof navigator.clipboard?.writeText === 'function' && (
        <button type="button" className="link-button" onClick={() => navigator.clipboard.writeText(text).then(() => setCopied('yes'), () => setCopied('failed'))}>
          {copied === 'yes' ? 'Copied all' : copied === 'failed' ? 'Copy failed' : 'Copy all'}
        </button>
      )}
      <button type="button" className="link-button" onClick={download}>
        Download ({text.length.toLocaleString()} characters)
      </button>
    </span>
  );
}

export function TextBlock({ text, label, highlight, className }: { text: string; label: string; highlight?: string; className?: string }) {
  // Shown pieces once "Show all" is clicked: a text longer than one piece is revealed a piece at a time.
  const [pieces, setPieces] = useState<{ first: number; last: number } | null>(null);
  if (text === '') return <p className="empty-text">(empty)</p>;
  const at = highlight ? text.indexOf(highlight) : -1;
  const evidence = at >= 0 ? { start: at, end: at + highlight!.length } : null;
  const huge = text.length > PIECE_CHARS;
  const tools = huge && <WholeText text={text} label={label} />;
  if (pieces) {
    const count = Math.ceil(text.length / PIECE_CHARS);
    const shownFrom = pieceStart(text, pieces.first);
    const shownTo = pieceStart(text, pieces.last + 1);
    const size = (k: number) => (pieceStart(text, k + 1) - pieceStart(text, k)).toLocaleString();
    return (
      <div className={`text-block ${className ?? ''}`}>
        {pieces.first > 0 && (
          <button type="button" className="link-button" onClick={() => setPieces({ ...pieces, first: pieces.first - 1 })}>
            Show the previous {size(pieces.first - 1)} characters ({shownFrom.toLocaleString()} before)
          </button>
        )}
        <pre aria-label={label}>
          {Array.from({ length: pieces.last - pieces.first + 1 }, (_, i) => (
            <Piece key={pieces.first + i} text={text} k={pieces.first + i} evidenceStart={evidence?.start ?? 0} evidenceEnd={evidence?.end ?? 0} />
          ))}
        </pre>
        {pieces.last < count - 1 && (
          <button type="button" className="link-button" onClick={() => setPieces({ ...pieces, last: pieces.last + 1 })}>
            Show the next {size(pieces.last + 1)} characters ({(text.length - shownTo).toLocaleString()} after)
          </button>
        )}
        <span className="text-tools">
          <button type="button" className="link-button" onClick={() => setPieces(null)}>
            Show less
          </button>
          {tools}
        </span>
      </div>
    );
  }
  let start = 0;
  let end: number;
  let hiddenLines = 0;
  if (evidence) {
    // Evidence must be visible, so text holding it is shown from around it.
    ({ start, end } = aroundEvidence(text, evidence.start, highlight!.length));
  } else {
    const cut = preview(text);
    end = cut.shown.length;
    hiddenLines = cut.hiddenLines;
  }
  const after = text.length - end;
  // "Show all" starts from the piece holding the evidence, so the evidence stays on screen.
  const first = evidence ? Math.min(Math.floor(evidence.start / PIECE_CHARS), Math.ceil(text.length / PIECE_CHARS) - 1) : 0;
  return (
    <div className={`text-block ${className ?? ''}`}>
      {start > 0 && <p className="muted cut-note">… {start.toLocaleString()} characters before the evidence</p>}
      <pre aria-label={label}>{marked(text.slice(start, end), start, evidence)}</pre>
      {(start > 0 || after > 0) && (
        <span className="text-tools">
          <button type="button" className="link-button" onClick={() => setPieces({ first, last: first })}>
            Show all ({start > 0 ? `${after.toLocaleString()} characters after, ` : `${hiddenLines.toLocaleString()} more lines, `}
            {text.length.toLocaleString()} characters{huge ? `, ${PIECE_CHARS.toLocaleString()} at a time` : ''})
          </button>
          {tools}
        </span>
      )}
    </div>
  );
}
