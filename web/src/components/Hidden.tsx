// Characters a reader cannot see, shown as visible marks. Model and tool text is attacker-written:
// a right-to-left override makes `ls #<RLO> fr- mr` read as `ls #rm -rf`, a zero-width space makes
// two tool names look the same, tag characters smuggle instructions, and terminal escapes or a
// lone surrogate vanish or turn into `�`. Letters that pass for Latin ones (lookalike.ts) are
// highlighted. Only the display changes; the stored text is untouched.
import type { ReactNode } from 'react';
import { findLookalikes } from './lookalike.ts';

/**
 * Controls, format characters (zero-width, bidi, tags), lone surrogates, line/paragraph
 * separators and the invisible Hangul fillers. Tab and newline are ordinary layout.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029\u115F\u1160\u3164\uFFA0]/gu;

const NAMES: Record<number, [short: string, name: string]> = {
  0x00ad: ['SHY', 'soft hyphen'],
  0x061c: ['ALM', 'Arabic letter mark'],
  0x180e: ['MVS', 'Mongolian vowel separator'],
  0x200b: ['ZWSP', 'zero width space'],
  0x200c: ['ZWNJ', 'zero width non-joiner'],
  0x200d: ['ZWJ', 'zero width joiner'],
  0x200e: ['LRM', 'left-to-right mark'],
  0x200f: ['RLM', 'right-to-left mark'],
  0x2028: ['LSEP', 'line separator'],
  0x2029: ['PSEP', 'paragraph separator'],
  0x202a: ['LRE', 'left-to-right embedding'],
  0x202b: ['RLE', 'right-to-left embedding'],
  0x202c: ['PDF', 'pop directional formatting'],
  0x202d: ['LRO', 'left-to-right override'],
  0x202e: ['RLO', 'right-to-left override'],
  0x2060: ['WJ', 'word joiner'],
  0x2066: ['LRI', 'left-to-right isolate'],
  0x2067: ['RLI', 'right-to-left isolate'],
  0x2068: ['FSI', 'first strong isolate'],
  0x2069: ['PDI', 'pop directional isolate'],
  0xfeff: ['BOM', 'zero width no-break space'],
};

const C0_NAMES = ['null', 'start of heading', 'start of text', 'end of text', 'end of transmission', 'enquiry', 'acknowledge', 'bell', 'backspace', 'tab', 'line feed', 'vertical tab', 'form feed', 'carriage return', 'shift out', 'shift in', 'data link escape', 'device control 1', 'device control 2', 'device control 3', 'device control 4', 'negative acknowledge', 'synchronous idle', 'end of transmission block', 'cancel', 'end of medium', 'substitute', 'escape', 'file separator', 'group separator', 'record separator', 'unit separator'];

/** Beyond this many marks in one text the rest are written into the text itself: a million zero-width spaces must not become a million elements. */
const MAX_MARK_ELEMENTS = 2000;

const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;

/** The visible stand-in for a hidden character and what it is. */
function describeHidden(char: string): { mark: string; title: string } {
  const code = char.codePointAt(0)!;
  // C0 controls as their Unicode control pictures (␛ for escape), as terminals' "show controls" do.
  if (code < 0x20) return { mark: String.fromCharCode(0x2400 + code), title: `${hex(code)} ${C0_NAMES[code]} (control character)` };
  if (code === 0x7f) return { mark: '␡', title: 'U+007F delete (control character)' };
  if (code >= 0xd800 && code <= 0xdfff) return { mark: `⟨${hex(code)}⟩`, title: `${hex(code)} lone surrogate (not valid Unicode text)` };
  const named = NAMES[code];
  if (named) return { mark: `⟨${named[0]}⟩`, title: `${hex(code)} ${named[1]} (invisible)` };
  if (code >= 0xe0000 && code <= 0xe007f) {
    const ascii = code - 0xe0000;
    const shown = ascii >= 0x20 && ascii < 0x7f ? ` “${String.fromCharCode(ascii)}”` : '';
    return { mark: `⟨TAG${shown ? ` ${String.fromCharCode(ascii)}` : ''}⟩`, title: `${hex(code)} tag character${shown} (invisible)` };
  }
  return { mark: `⟨${hex(code)}⟩`, title: `${hex(code)} invisible or control character` };
}

/** Whether a hidden character at `at` is ordinary text: a newline's carriage return, a tab, or an emoji's joiner. */
function isOrdinary(text: string, char: string, at: number): boolean {
  if (char === '\n' || char === '\t') return true;
  if (char === '\r') return text[at + 1] === '\n';
  // Family and profession emoji are pictographs joined by ZWJ.
  if (char === '\u200d') return /(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\uFE0F)$/u.test(text.slice(Math.max(0, at - 2), at)) && /^\p{Extended_Pictographic}/u.test(text.slice(at + 1, at + 3));
  return false;
}

interface Mark {
  at: number;
  length: number;
  className: 'hidden-char' | 'lookalike';
  code: string;
  /** What the page shows for the character. */
  shown: string;
  /** What stands in the text itself once there are too many marks for elements. */
  inline: string;
  title: string;
}

function hiddenMarks(text: string): Mark[] {
  const marks: Mark[] = [];
  for (const match of text.matchAll(HIDDEN)) {
    const char = match[0];
    if (isOrdinary(text, char, match.index)) continue;
    const { mark, title } = describeHidden(char);
    marks.push({ at: match.index, length: char.length, className: 'hidden-char', code: hex(char.codePointAt(0)!), shown: mark, inline: mark, title });
  }
  return marks;
}

/** Look-alike letters stay as they are, highlighted; past the element limit their code point follows them. */
function lookalikeMarks(text: string): Mark[] {
  return findLookalikes(text).map(({ at, char, title }) => {
    const code = hex(char.codePointAt(0)!);
    return { at, length: char.length, className: 'lookalike', code, shown: char, inline: `${char}⟨${code}⟩`, title };
  });
}

/** Both lists in text order (a hidden character is never a letter, so they never overlap). */
function merge(a: Mark[], b: Mark[]): Mark[] {
  if (!a.length || !b.length) return a.length ? a : b;
  const out: Mark[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i]!.at < b[j]!.at) ? a[i++]! : b[j++]!);
  return out;
}

/** `text` with every hidden character replaced by a visible, titled mark, and look-alike letters highlighted. */
export function revealHidden(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let from = 0;
  let pending = '';
  let elements = 0;
  for (const mark of merge(hiddenMarks(text), lookalikeMarks(text))) {
    pending += text.slice(from, mark.at);
    from = mark.at + mark.length;
    if (elements >= MAX_MARK_ELEMENTS) {
      pending += mark.inline;
      continue;
    }
    if (pending) out.push(pending);
    pending = '';
    out.push(
      <span key={mark.at} className={mark.className} title={mark.title} {...(mark.className === 'lookalike' ? { 'data-lookalike': mark.code } : { 'data-hidden-char': mark.code })}>
        {mark.shown}
      </span>,
    );
    elements += 1;
  }
  pending += text.slice(from);
  if (pending) out.push(pending);
  return out;
}

/** Text (a name, a note, a message) with its hidden characters made visible. */
export function Visible({ text }: { text: string }) {
  return <>{revealHidden(text)}</>;
}

/**
 * `text` as one string with its marks written in (`⟨RLO⟩`, `а⟨U+0430⟩`), for places that take no
 * elements: attributes such as `title` and `aria-label`, SVG labels, option text.
 */
export function visibleText(text: string): string {
  let out = '';
  let from = 0;
  for (const mark of merge(hiddenMarks(text), lookalikeMarks(text))) {
    out += text.slice(from, mark.at) + mark.inline;
    from = mark.at + mark.length;
  }
  return out + text.slice(from);
}
