import { InputError } from '../core/index.ts';

// What a tokenizer.json must hold before @lenml/tokenizers sees it. The library is forgiving where
// Hugging Face's tokenizers refuses the file: it guesses a model kind for an unknown `type`, skips
// merges of tokens the vocabulary lacks, and lets an empty added token split every character. Each
// of those gives ids that differ from the engine's without a word, so they are refused here, with
// the field. Regular expressions in the file are compiled and run on every text: one that nests
// repetition takes exponential time on some inputs, and JavaScript cannot stop a running match.

const MODEL_TYPES = ['BPE', 'WordPiece', 'WordLevel', 'Unigram'];
/** HF's tokenizers store ids as u32. */
const MAX_ID = 2 ** 32 - 1;

export function checkTokenizerJson(json: Record<string, unknown>, where: string): void {
  const model = json.model;
  if (model === null || typeof model !== 'object' || Array.isArray(model)) throw new InputError(`${where}: model`, 'is missing or not an object', 'the tokenizer model: {"type": "BPE", "vocab": {…}, "merges": […]} or another kind');
  const { type, vocab, merges } = model as { type?: unknown; vocab?: unknown; merges?: unknown };
  if (type !== undefined && (typeof type !== 'string' || !MODEL_TYPES.includes(type))) {
    throw new InputError(`${where}: model.type`, `is ${JSON.stringify(type)}`, `one of ${MODEL_TYPES.join(', ')}`);
  }
  // Files without a type are older ones; the library infers the kind from the vocabulary's shape.
  if (type === 'Unigram' || (type === undefined && Array.isArray(vocab))) checkUnigramVocab(vocab, where);
  else checkVocabMap(vocab, where);
  if (type === 'BPE' || (type === undefined && merges !== undefined)) checkMerges(model as BpeModel, where);
  checkAddedTokens(json.added_tokens, where);
  for (const field of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) checkPatterns(json[field], `${where}: ${field}`);
}

function checkVocabMap(vocab: unknown, where: string): void {
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) throw new InputError(`${where}: model.vocab`, 'is missing or not an object', 'a map of token to id');
  for (const [token, id] of Object.entries(vocab)) {
    if (!isId(id)) throw new InputError(`${where}: model.vocab[${JSON.stringify(token)}]`, `is ${JSON.stringify(id)}`, `a token id: an integer from 0 to ${MAX_ID}`);
  }
}

function checkUnigramVocab(vocab: unknown, where: string): void {
  if (!Array.isArray(vocab)) throw new InputError(`${where}: model.vocab`, 'is not a list', 'a Unigram vocabulary: [[token, score], …]');
  vocab.forEach((entry: unknown, i) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') throw new InputError(`${where}: model.vocab.${i}`, `is ${JSON.stringify(entry)?.slice(0, 80)}`, '[token, score]');
  });
}

interface BpeModel {
  vocab: Record<string, number>;
  merges?: unknown;
  continuing_subword_prefix?: unknown;
}

/** Each merge joins two vocabulary tokens into a third; HF's BPE builder refuses a merge naming any other. */
function checkMerges(model: BpeModel, where: string): void {
  const { vocab, merges } = model;
  if (!Array.isArray(merges)) throw new InputError(`${where}: model.merges`, 'is missing or not a list', 'the BPE merges: ["a b", …] or [["a", "b"], …]');
  const has = (token: string): boolean => Object.hasOwn(vocab, token);
  const prefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '';
  merges.forEach((merge: unknown, i) => {
    const pair: unknown[] = typeof merge === 'string' ? merge.split(' ') : Array.isArray(merge) ? merge : [];
    const [a, b] = pair;
    if (pair.length !== 2 || typeof a !== 'string' || typeof b !== 'string') throw new InputError(`${where}: model.merges.${i}`, `is ${JSON.stringify(merge)?.slice(0, 80)}`, 'two tokens: "a b" or ["a", "b"]');
    // As HF builds the merged token: the second part loses its continuing-subword prefix.
    const joined = a + (prefix !== '' && b.startsWith(prefix) ? b.slice(prefix.length) : b);
    for (const token of [a, b, joined]) {
      if (!has(token)) throw new InputError(`${where}: model.merges.${i}`, `(${JSON.stringify(a)} + ${JSON.stringify(b)}) needs ${JSON.stringify(token)}, which is not in model.vocab`, 'merges of vocabulary tokens into a vocabulary token');
    }
  });
}

function checkAddedTokens(added: unknown, where: string): void {
  if (added === undefined || added === null) return;
  if (!Array.isArray(added)) throw new InputError(`${where}: added_tokens`, 'is not a list', '[{"id": …, "content": …}, …]');
  const byContent = new Map<string, number>();
  const byId = new Map<number, string>();
  added.forEach((entry: unknown, i) => {
    const at = `${where}: added_tokens.${i}`;
    const { id, content } = (entry ?? {}) as { id?: unknown; content?: unknown };
    if (!isId(id)) throw new InputError(`${at}.id`, `is ${JSON.stringify(id)}`, `a token id: an integer from 0 to ${MAX_ID}`);
    if (typeof content !== 'string' || content === '') throw new InputError(`${at}.content`, `is ${JSON.stringify(content)}`, 'the non-empty text of the token');
    const earlier = byContent.get(content);
    if (earlier !== undefined && earlier !== id) throw new InputError(`${at}`, `adds ${JSON.stringify(content)} as id ${id}, but an earlier entry added it as id ${earlier}`, 'one id per added token');
    const other = byId.get(id);
    if (other !== undefined && other !== content) throw new InputError(`${at}`, `gives id ${id} to ${JSON.stringify(content)}, but an earlier entry gave it to ${JSON.stringify(other)}`, 'one token per id');
    byContent.set(content, id);
    byId.set(id, content);
  });
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_ID;
}

/** Every `{"Regex": …}` under `value` (normalizers, pre-tokenizers, decoders, in sequences too). */
function checkPatterns(value: unknown, where: string): void {
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    const at = `${where}.${key}`;
    if (key === 'Regex' && typeof child === 'string') {
      const nested = nestedRepetition(child);
      if (nested !== undefined) {
        throw new InputError(at, `repeats ${JSON.stringify(nested)}, a group that itself repeats: such a pattern can take exponential time on some texts`, 'a pattern without nested repetition, as in published tokenizers');
      }
    } else checkPatterns(child, at);
  }
}

interface Group {
  start: number;
  /** Holds an atom repeated without bound (`*`, `+`, `{n,}`). */
  unbounded: boolean;
}

/**
 * The first group that is repeated (`(…)+`, `(…)*`, `(…){2,9}`) and holds unbounded repetition
 * itself, as in `(a+)+b` or `(\s*x*)*`: the classic shape of catastrophic backtracking. Published
 * pre-tokenizer patterns repeat single atoms and character classes only. Overlapping alternatives
 * under a repeat (`(a|a)+`) can also backtrack; they are not detected.
 */
export function nestedRepetition(pattern: string): string | undefined {
  const stack: Group[] = [{ start: 0, unbounded: false }];
  let i = 0;
  // The group just closed, when the next token may be its quantifier.
  let closed: Group | undefined;
  while (i < pattern.length) {
    const char = pattern[i] as string;
    const quantifier = readQuantifier(pattern, i);
    if (quantifier) {
      const top = stack[stack.length - 1] as Group;
      if (closed && closed.unbounded && quantifier.repeats) return pattern.slice(closed.start, quantifier.end);
      if (quantifier.unbounded || (closed?.unbounded ?? false)) top.unbounded = true;
      closed = undefined;
      i = quantifier.end;
      continue;
    }
    if (closed) (stack[stack.length - 1] as Group).unbounded ||= closed.unbounded;
    closed = undefined;
    if (char === '\\') i += 2;
    else if (char === '[') i = classEnd(pattern, i);
    else if (char === '(') {
      stack.push({ start: i, unbounded: false });
      i++;
    } else if (char === ')' && stack.length > 1) {
      closed = stack.pop();
      i++;
    } else i++;
  }
  return undefined;
}

/** A quantifier at `i`: whether it repeats (may match more than once) and whether without bound. */
function readQuantifier(pattern: string, i: number): { end: number; repeats: boolean; unbounded: boolean } | undefined {
  const char = pattern[i];
  let end: number;
  let repeats: boolean;
  let unbounded: boolean;
  if (char === '*' || char === '+') [end, repeats, unbounded] = [i + 1, true, true];
  else if (char === '?') [end, repeats, unbounded] = [i + 1, false, false];
  else if (char === '{') {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
    if (!match) return undefined;
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : match[3] === '' ? Infinity : Number(match[3]);
    [end, repeats, unbounded] = [i + match[0].length, high > 1, high === Infinity];
  } else return undefined;
  // Lazy (`+?`) and possessive (`++`) forms are one quantifier.
  if (pattern[end] === '?' || pattern[end] === '+') end++;
  return { end, repeats, unbounded };
}

/** The index after the `]` closing the class that opens at `i`. */
function classEnd(pattern: string, i: number): number {
  let k = i + 1;
  if (pattern[k] === '^') k++;
  // A `]` first in the class is a literal in Oniguruma (the engine HF's tokenizers use).
  if (pattern[k] === ']') k++;
  let depth = 1;
  while (k < pattern.length && depth > 0) {
    const c = pattern[k];
    if (c === '\\') k += 2;
    else {
      // Oniguruma allows nested classes (`[a-z&&[^aeiou]]`).
      if (c === '[') depth++;
      else if (c === ']') depth--;
      k++;
    }
  }
  return k;
}
