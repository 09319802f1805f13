// Reading the YAML and JSON files people hand Gauntlet (run settings, task files, suites, reward
// configs, rubrics, scripts). One path for all of them, because each hole found in one loader was
// open in the others: a FIFO with no writer hung `gauntlet run` forever, /dev/zero was read until
// memory ran out, Latin-1 bytes became U+FFFD, an alias bomb escaped as a crash, `1:` and `"1":`
// were the same key with the last one silently winning, `%YAML 1.1` turned `no` into false, a
// `__proto__` key vanished in zod, and 2^53 + 1 was read as 2^53.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { isAlias, isMap, isNode, isPair, isScalar, isSeq, Lexer, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './access.ts';
import { InputError } from './errors.ts';

const MiB = 1024 * 1024;

/**
 * The most read from one input file. YAML takes about 100 times its size in memory to parse, so a
 * larger file would exhaust the default heap; 100,000 ordinary tasks are about 21 MiB.
 */
export const MAX_INPUT_FILE_BYTES = 32 * MiB;

/** How many alias expansions (`*name`) one document may make: plenty for reuse, far short of a "billion laughs". */
export const MAX_YAML_ALIASES = 100;

export interface ReadInputOptions {
  /** How errors name the file; the path by default. */
  where?: string;
  maxBytes?: number;
  /** The loader's own message when the file cannot be opened at all (ENOENT, EACCES, ELOOP). */
  cannotOpen?: (error: unknown) => InputError;
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** An fs error's code (ENOENT, EACCES, ELOOP), or the error as text. */
export function fileErrorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? String(error);
}

const sizeText = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * A regular file's text: at most `maxBytes`, strictly UTF-8 (a byte order mark is dropped), CRLF
 * kept for the parser. A directory, FIFO, socket or device is refused before anything is read.
 */
export function readInputFile(path: string, options: ReadInputOptions = {}): string {
  const { where = path, maxBytes = MAX_INPUT_FILE_BYTES } = options;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw options.cannotOpen?.(error) ?? new InputError(where, `cannot read the file (${fileErrorCode(error)})`);
  }
  let bytes: Buffer;
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new InputError(where, 'is a directory', 'a file');
    if (!stat.isFile()) throw new InputError(where, `is ${kindOf(stat)}; not read`, 'a regular file');
    const limit = `more than the ${sizeText(maxBytes)} read from one input file`;
    if (stat.size > maxBytes) throw new InputError(where, `is ${sizeText(stat.size)}, ${limit}`, 'a smaller file (tasks can be split over several files in a directory)');
    // The file may grow while it is read: read one byte past the limit to notice.
    bytes = Buffer.allocUnsafe(Math.min(stat.size, maxBytes) + 1);
    let total = 0;
    for (;;) {
      if (total === bytes.length) {
        if (total > maxBytes) throw new InputError(where, `grew while read to ${limit}`);
        const grown = Buffer.allocUnsafe(Math.min(bytes.length * 2, maxBytes + 1));
        bytes.copy(grown, 0, 0, total);
        bytes = grown;
      }
      const read = readSync(fd, bytes, total, bytes.length - total, null);
      if (read === 0) break;
      total += read;
    }
    bytes = bytes.subarray(0, total);
  } finally {
    closeSync(fd);
  }
  return decodeStrictUtf8(bytes, where);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes as text (a leading byte order mark dropped); anything else names the line and byte where it stops being UTF-8. */
export function decodeStrictUtf8(bytes: Uint8Array, where: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (_error) {
    // Decoded loosely, the first U+FFFD that is not a literal EF BF BD marks the first bad byte.
    const loose = new TextDecoder('utf-8').decode(bytes);
    let at = 0;
    for (const ch of loose) {
      const code = ch.codePointAt(0)!;
      if (code === 0xfffd && !(bytes[at] === 0xef && bytes[at + 1] === 0xbf && bytes[at + 2] === 0xbd)) break;
      at += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    }
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    const shown = [...bytes.subarray(at, at + 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new InputError(where, `is not valid UTF-8 (line ${line}, byte ${at}: ${shown})`, 'UTF-8 text; was the file saved as Latin-1 or another encoding?');
  }
}

export interface ParseInputOptions {
  /** The loader's words for a syntax error: `not valid YAML/JSON` and the like. */
  syntax?: string;
  /** JSON only (a `.json` file); otherwise JSON is read the fast way and anything else as YAML 1.2. */
  json?: boolean;
  /** Errors name the line as `FILE:LINE:` (task and suite files); otherwise as `at line N` in the message. */
  lineInWhere?: boolean;
  /**
   * For files another tool owns (docker-compose.yaml), read only to look at: merge keys (`<<`)
   * are merged and tags such as `!reset` read as plain values, as that tool would accept them.
   */
  foreign?: boolean;
}

export interface ParsedInput {
  value: unknown;
  /** The YAML document and its line positions, for naming lines; built on first use when the text was JSON. */
  document(): { doc: Document.Parsed; lines: LineCounter };
}

/** The 1-based line of the node at `path`, or of the nearest parent that exists. */
export function lineOf(parsed: ParsedInput, path: readonly (string | number)[]): number | undefined {
  const { doc, lines } = parsed.document();
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Where a problem is, said the way the loader names lines. */
class Place {
  constructor(
    private readonly where: string,
    private readonly lineInWhere: boolean,
  ) {}

  /** `problem` may hold `{at}`, replaced by ` at line N` when the line is not in `where`. */
  error(line: number | undefined, problem: string, expected?: string): InputError {
    const inWhere = line !== undefined && this.lineInWhere;
    const at = line === undefined || inWhere ? '' : ` at line ${line}`;
    return new InputError(inWhere ? `${this.where}:${line}` : this.where, problem.replace('{at}', at), expected);
  }
}

// YAML 1.2 core schema only: `yes`/`no`/`on` stay strings (no Norway problem), `017` is 17, keys
// are strings (`1:` and `"1":` are one key, so a duplicate), and no tag builds anything but a plain
// value (`!!binary`, `!!js/function` and unknown tags are refused rather than read as text).
const YAML_OPTIONS = { version: '1.2', schema: 'core', stringKeys: true, uniqueKeys: true, resolveKnownTags: false, prettyErrors: true } as const;

interface Built {
  doc: Document.Parsed;
  lines: LineCounter;
}

function yamlDocument(text: string, foreign = false): Built {
  const lines = new LineCounter();
  return { doc: parseDocument(text, { ...YAML_OPTIONS, merge: foreign, lineCounter: lines }), lines };
}

const lineAt = (built: Built, node: unknown): number | undefined => (isNode(node) && node.range ? built.lines.linePos(node.range[0]).line : undefined);
const tooDeep = `nests lists and mappings more than ${MAX_JSON_DEPTH} levels deep{at}`;

/**
 * Parses a file's text as JSON or YAML with one set of rules: duplicate keys, merge keys (`<<`),
 * `__proto__` keys, tags, YAML 1.1 documents, numbers that cannot be held exactly, nesting deeper
 * than MAX_JSON_DEPTH and alias bombs are all errors naming the file and line.
 */
export function parseInputText(text: string, where: string, options: ParseInputOptions = {}): ParsedInput {
  const { syntax = 'not valid YAML', foreign = false } = options;
  const place = new Place(where, options.lineInWhere ?? false);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    if (options.json) {
      const position = /at position (\d+)/.exec((error as Error).message)?.[1];
      const line = position === undefined ? undefined : text.slice(0, Number(position)).split('\n').length;
      throw place.error(line, `${syntax}: ${(error as Error).message.replace(/ at position \d+.*$/, '')}{at}`);
    }
    json = undefined; // not JSON: read as YAML below
  }
  if (json !== undefined) {
    checkJson(text, place, syntax);
    let built: Built | undefined;
    return { value: json, document: () => (built ??= yamlDocument(text)) };
  }
  flowDepthCheck(text, place);
  const built = yamlDocument(text, foreign);
  const { doc } = built;
  const version = doc.directives?.yaml.version;
  if (doc.directives?.yaml.explicit && version !== '1.2') {
    throw place.error(1, `${syntax}: a %YAML ${version} document{at} (YAML 1.1 reads yes/no/on/off as booleans and 017 as octal)`, 'YAML 1.2: remove the %YAML line');
  }
  const first = doc.errors[0] ?? (foreign ? undefined : doc.warnings[0]);
  if (first) throw yamlError(built, first, place, syntax);
  checkNodes(built, place, { syntax, foreign });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    const detail = (error as Error).message.split('\n')[0]!;
    if (!/alias count/.test(detail)) throw place.error(undefined, `${syntax}: ${detail}`);
    throw place.error(undefined, `not a usable YAML document: ${detail}`, `at most ${MAX_YAML_ALIASES} alias (*name) expansions, each small`);
  }
  // Aliases can place a deep value deeper still.
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw place.error(undefined, tooDeep);
  return { value, document: () => built };
}

/** The parser's first complaint, in words for the person who wrote the file. */
function yamlError(built: Built, first: Document.Parsed['errors'][number] | Document.Parsed['warnings'][number], place: Place, syntax: string): InputError {
  const line = built.lines.linePos(first.pos[0]).line;
  const detail = first.message.split('\n')[0]!.replace(/:$/, '');
  switch (first.code) {
    case 'DUPLICATE_KEY':
      return duplicateKey(built, first.pos[0], place, syntax) ?? place.error(line, `${syntax}: ${detail}`);
    case 'TAG_RESOLVE_FAILED': {
      const tag = (/Unresolved tag: (\S+)/.exec(detail)?.[1] ?? '?').replace(/^tag:yaml\.org,2002:/, '!!');
      return place.error(line, `${syntax}: the tag ${tag}{at} is not read`, 'plain YAML 1.2 values, without tags such as !!binary or !!js/function');
    }
    case 'NON_STRING_KEY':
      return place.error(line, `${syntax}: a key that is a list or mapping{at}`, 'keys that are plain text');
    case 'MULTIPLE_DOCS':
      return place.error(line, `${syntax}: a second document{at} (after ---)`, 'one YAML document per file');
    default:
      if (/Maximum call stack/.test(detail)) return place.error(line, `${syntax}: nests too deeply to read{at}`, `at most ${MAX_JSON_DEPTH} levels of lists and mappings`);
      // The parser's own message already says the line and column.
      return place.error(line, `${syntax}: ${detail}`);
  }
}
/**
 * Refuses flow collections (`[[[…`, `{{{…`) nested deeper than MAX_JSON_DEPTH before the parser
 * sees them: the parser recurses on them, and a second overflowing document in one process
 * aborted Node outright (a V8 out-of-memory while compiling a regular expression near the stack's
 * end). The lexer is iterative and tells brackets in quotes and scalars apart.
 */
function flowDepthCheck(text: string, place: Place): void {
  let depth = 0;
  let line = 1;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > MAX_JSON_DEPTH) throw place.error(line, tooDeep);
    } else if (token === ']' || token === '}') depth = Math.max(0, depth - 1);
    else for (let i = token.indexOf('\n'); i >= 0; i = token.indexOf('\n', i + 1)) line++;
  }
}

/** Every node of the document, depth first, with its depth; iterative, so no nesting overflows the stack. */
function* nodesOf(doc: Document.Parsed): Generator<{ node: Node; depth: number }> {
  const pending: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { node, depth } = next;
    if (!isNode(node)) continue;
    yield { node, depth };
    if (isSeq(node)) for (const item of node.items) pending.push({ node: item, depth: depth + 1 });
    if (isMap(node)) {
      for (const pair of node.items) {
        pending.push({ node: pair.key, depth: depth + 1 });
        pending.push({ node: pair.value, depth: depth + 1 });
      }
    }
  }
}

const keyText = (node: unknown): string | undefined => (isScalar(node) ? String(node.value) : undefined);

function duplicateKey(built: Built, offset: number, place: Place, syntax: string): InputError | undefined {
  for (const { node } of nodesOf(built.doc)) {
    if (!isMap(node)) continue;
    const index = node.items.findIndex((pair) => isNode(pair.key) && pair.key.range?.[0] === offset);
    if (index < 0) continue;
    const key = keyText(node.items[index]!.key);
    const earlier = node.items.slice(0, index).find((pair) => keyText(pair.key) === key);
    const first = earlier ? ` (first at line ${lineAt(built, earlier.key)})` : '';
    return place.error(lineAt(built, node.items[index]!.key), `${syntax}: duplicate key ${JSON.stringify(key)}{at}${first}`, 'each key once in a mapping');
  }
  return undefined;
}

const INTEGER = /^[-+]?(?:0x[0-9a-fA-F]+|0o[0-7]+|[0-9]+)$/;
const INFINITY = /^[-+]?\.(?:inf|Inf|INF)$/;

function numberProblem(value: number, source: string): string | undefined {
  if (INTEGER.test(source) && !Number.isSafeInteger(value)) return `the integer ${source}{at} is too large to hold exactly (beyond 2^53 - 1; it would be read as ${value})`;
  if (!Number.isFinite(value) && !Number.isNaN(value) && !INFINITY.test(source)) return `the number ${source}{at} is out of range (it would be read as ${value})`;
  return undefined;
}

function checkNodes(built: Built, place: Place, options: { syntax: string; foreign: boolean }): void {
  const { syntax, foreign } = options;
  for (const { node, depth } of nodesOf(built.doc)) {
    if (depth > MAX_JSON_DEPTH) throw place.error(lineAt(built, node), tooDeep);
    if (isScalar(node) && typeof node.value === 'number' && node.source !== undefined) {
      const problem = numberProblem(node.value, node.source);
      if (problem) throw place.error(lineAt(built, node), `${syntax}: ${problem}`, 'a number within range, or the value quoted as a string');
    }
    if (!isMap(node)) continue;
    for (const pair of node.items) {
      if (!isPair(pair) || isAlias(pair.key)) continue;
      const { key } = pair;
      if (!foreign && isScalar(key) && key.value === '<<' && key.type === 'PLAIN') {
        throw place.error(lineAt(built, key), `${syntax}: a merge key (<<){at}; merge keys are not supported`, 'the keys written out, or an alias (*name) for the whole value');
      }
      if (keyText(key) === '__proto__') throw place.error(lineAt(built, key), `${syntax}: the key __proto__{at} cannot be read into an object`, 'another key name');
    }
  }
}

/**
 * What JSON.parse lets through silently: a repeated key (the last wins), a `__proto__` key (zod
 * drops it), integers past 2^53 and numbers past the double range. One pass over text JSON.parse
 * has already accepted, so strings and numbers are well formed.
 */
function checkJson(text: string, place: Place, syntax: string): void {
  const frames: { keys: Map<string, number> | null; expectKey: boolean }[] = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = frames.at(-1);
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const first = top.keys.get(key);
        if (first !== undefined) throw place.error(line, `${syntax}: duplicate key ${JSON.stringify(key)}{at} (first at line ${first})`, 'each key once in an object');
        if (key === '__proto__') throw place.error(line, `${syntax}: the key __proto__{at} cannot be read into an object`, 'another key name');
        top.keys.set(key, line);
        top.expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      frames.push({ keys: c === '{' ? new Map() : null, expectKey: c === '{' });
      if (frames.length > MAX_JSON_DEPTH) throw place.error(line, `nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep{at}`);
    } else if (c === '}' || c === ']') frames.pop();
    else if (c === ',') {
      const top = frames.at(-1);
      if (top?.keys) top.expectKey = true;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const token = /-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;
      token.lastIndex = i;
      const source = token.exec(text)![0];
      const problem = numberProblem(Number(source), source);
      if (problem) throw place.error(line, `${syntax}: ${problem}`, 'a number within range, or the value quoted as a string');
      i += source.length - 1;
    }
  }
}
