// New names for tools and parameters: synonyms word by word, opaque ids, other casing or a
// namespace. Every new name is checked against what OpenAI and Anthropic accept and made unique,
// and none equals an original name, so a model that only knows the originals cannot get lucky.
import type { Rng } from '../../core/index.ts';

export const RENAME_STYLES = ['synonym', 'opaque', 'case', 'namespace'] as const;
export type RenameStyle = (typeof RENAME_STYLES)[number];

// Alternatives per word, chosen so the renamed tool still says what it does.
const SYNONYMS: Record<string, readonly string[]> = {
  list: ['enumerate', 'browse', 'show'],
  get: ['fetch', 'retrieve', 'load'],
  read: ['open', 'view', 'fetch'],
  find: ['locate', 'lookup', 'discover'],
  search: ['query', 'lookup', 'scan'],
  create: ['new', 'make', 'start'],
  update: ['edit', 'modify', 'change'],
  cancel: ['withdraw', 'call_off', 'drop'],
  delete: ['erase', 'trash', 'destroy'],
  remove: ['detach', 'drop', 'unlink'],
  add: ['attach', 'insert', 'include'],
  send: ['dispatch', 'deliver', 'transmit'],
  run: ['execute', 'exec', 'invoke'],
  write: ['save', 'put', 'store'],
  put: ['store', 'save', 'set'],
  value: ['entry', 'data', 'content'],
  keys: ['entries', 'names', 'index'],
  key: ['name', 'slot', 'entry_name'],
  item: ['entry', 'record', 'object'],
  from: ['sender', 'sent_by', 'author'],
  after: ['since', 'newer_than', 'start_date'],
  before: ['until', 'older_than', 'end_date'],
  notes: ['remarks', 'comments', 'memo'],
  edit: ['patch', 'amend', 'revise'],
  move: ['relocate', 'shift', 'transfer'],
  mark: ['flag', 'set', 'tag'],
  star: ['pin', 'favourite', 'highlight'],
  respond: ['answer', 'rsvp', 'react'],
  reply: ['respond', 'answer', 'write_back'],
  forward: ['relay', 'pass_on', 'redirect'],
  append: ['extend', 'push', 'add_to'],
  archive: ['shelve', 'stash', 'retire'],
  query: ['search', 'lookup', 'terms'],
  resolve: ['settle', 'close', 'dismiss'],
  post: ['publish', 'announce', 'share'],
  submit: ['finish', 'complete', 'hand_in'],
  message: ['email', 'mail', 'note'],
  messages: ['emails', 'mail', 'notes'],
  event: ['meeting', 'appointment', 'booking'],
  events: ['meetings', 'appointments', 'bookings'],
  file: ['document', 'doc', 'blob'],
  files: ['documents', 'docs', 'tree'],
  folder: ['mailbox', 'box', 'directory'],
  folders: ['mailboxes', 'boxes', 'directories'],
  contact: ['person', 'card', 'entry'],
  contacts: ['people', 'cards', 'address_book'],
  page: ['doc', 'document', 'sheet'],
  block: ['paragraph', 'chunk', 'section'],
  blocks: ['paragraphs', 'chunks', 'sections'],
  database: ['table', 'collection', 'dataset'],
  row: ['record', 'entry', 'item'],
  comment: ['remark', 'annotation', 'note'],
  channel: ['room', 'conversation', 'stream'],
  channels: ['rooms', 'conversations', 'streams'],
  command: ['shell', 'cmd', 'script'],
  code: ['source', 'codebase', 'repo'],
  label: ['tag', 'category', 'marker'],
  thread: ['conversation', 'chain', 'discussion'],
  draft: ['unsent', 'pending', 'sketch'],
  attendee: ['participant', 'guest', 'invitee'],
  invitation: ['invite', 'request', 'rsvp'],
  slots: ['times', 'openings', 'windows'],
  people: ['persons', 'directory', 'staff'],
  members: ['users', 'teammates', 'workspace_users'],
  users: ['members', 'accounts', 'persons'],
  reaction: ['emoji', 'emote', 'response'],
  title: ['heading', 'name', 'caption'],
  free: ['open', 'available', 'unbooked'],
  busy: ['occupied', 'booked', 'taken'],
  direct: ['private', 'personal', 'one_to_one'],
  chat: ['messaging', 'im', 'talk'],
  unread: ['unseen', 'new', 'pending'],
  // parameter words
  id: ['ref', 'key', 'identifier'],
  text: ['content', 'body', 'words'],
  body: ['content', 'text', 'message_text'],
  subject: ['topic', 'headline', 'summary'],
  to: ['recipients', 'send_to', 'addressees'],
  cc: ['copy_to', 'also_to', 'carbon_copy'],
  path: ['location', 'file_path', 'filename'],
  content: ['data', 'contents', 'payload'],
  note: ['remark', 'comment', 'memo'],
  name: ['label', 'display_name', 'title'],
  answer: ['result', 'response', 'final_answer'],
  start: ['begin', 'from', 'starts_at'],
  end: ['finish', 'until', 'ends_at'],
  window: ['range', 'period', 'span'],
  duration: ['length', 'span', 'period'],
  minutes: ['mins', 'min', 'minute_count'],
  calendar: ['schedule', 'agenda', 'diary'],
  attendees: ['participants', 'guests', 'invitees'],
  scope: ['extent', 'range', 'coverage'],
  time: ['moment', 'clock', 'when'],
  zone: ['region', 'area', 'tz'],
  cursor: ['page_token', 'continuation', 'next'],
  size: ['count', 'length', 'amount'],
  limit: ['max', 'cap', 'max_items'],
  offset: ['skip', 'from_index', 'position'],
  pattern: ['regex', 'expression', 'matcher'],
  summary: ['description', 'overview', 'recap'],
  properties: ['fields', 'values', 'attributes'],
  filter: ['conditions', 'where', 'criteria'],
  sort: ['order', 'ordering', 'sort_by'],
  parent: ['container', 'owner', 'under'],
  kind: ['type', 'category', 'sort_of'],
  emoji: ['reaction', 'icon', 'symbol'],
  email: ['address', 'mail', 'email_address'],
  company: ['organisation', 'employer', 'firm'],
  phone: ['telephone', 'mobile', 'number'],
  response: ['reply', 'answer', 'rsvp'],
  archived: ['shelved', 'retired', 'stored'],
  starred: ['pinned', 'flagged', 'favourite'],
  checked: ['done', 'ticked', 'complete'],
  resolved: ['settled', 'closed', 'done'],
  timeout: ['time_limit', 'max_time', 'deadline'],
  seconds: ['secs', 's', 'second_count'],
  ignore: ['skip', 'disregard', 'without'],
  case: ['capitals', 'casing', 'letter_case'],
  // nested parameter words (block items, database filters and sorts)
  type: ['kind', 'category', 'variant'],
  property: ['field', 'attribute', 'column'],
  operator: ['op', 'comparison', 'condition'],
  direction: ['order', 'sort_order', 'ordering'],
};

/** The words of a snake_case, kebab-case, dotted or camelCase name, lower-cased. */
export function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .split(/[_.\-\s]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** How a name joins its words, so a renamed one keeps the convention of the original. */
function styleOf(name: string): 'camel' | 'snake' {
  return /[a-z][A-Z]/.test(name) && !name.includes('_') ? 'camel' : 'snake';
}

function join(words: readonly string[], style: 'camel' | 'snake'): string {
  const flat = words.flatMap((w) => w.split('_'));
  if (style === 'snake') return flat.join('_');
  return flat.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}

/**
 * What each kind of name may be on the wire. OpenAI and Anthropic refuse a function name outside
 * `[a-zA-Z0-9_-]{1,64}` (no dot, though ToolSpec allows one); property keys may hold dots.
 */
const VALID = {
  tool: /^[A-Za-z0-9_-]{1,64}$/,
  parameter: /^[A-Za-z0-9_.-]{1,64}$/,
} as const;
export type NameKind = keyof typeof VALID;
const INVALID_CHARACTER = { tool: /[^A-Za-z0-9_-]/g, parameter: /[^A-Za-z0-9_.-]/g } as const;

const NAMESPACES = ['api', 'svc', 'workspace', 'app', 'ops'] as const;
/** Joins a namespace to a name: `api__send_message`, as MCP clients prefix a server's tools (a dot is refused on the wire). */
const NAMESPACE_SEPARATOR = '__';

/** New names for `name` in the style, best first; drawn lazily, since the first usually fits. */
function* candidates(name: string, style: RenameStyle, rng: Rng): Generator<string> {
  const words = wordsOf(name);
  switch (style) {
    case 'synonym': {
      const convention = styleOf(name);
      // Several tries, each word drawn again, so a collision usually resolves to another synonym.
      // Own entries only: `constructor` is a word too, not Object's.
      for (let i = 0; i < 6; i++) yield join(words.map((w) => (Object.hasOwn(SYNONYMS, w) ? rng.pick(SYNONYMS[w]!) : w)), convention);
      return;
    }
    case 'opaque':
      for (let i = 0; i < 6; i++) yield `${/^[A-Za-z]/.test(name) ? name.charAt(0).toLowerCase() : 't'}${rng.int(0, 36 ** 4).toString(36).padStart(4, '0')}`;
      return;
    case 'case':
      yield styleOf(name) === 'camel' ? join(words, 'snake') : words.length > 1 ? join(words, 'camel') : `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
      return;
    case 'namespace': {
      const ns = rng.pick(NAMESPACES);
      yield `${ns}${NAMESPACE_SEPARATOR}${name}`;
      for (const other of NAMESPACES) if (other !== ns) yield `${other}${NAMESPACE_SEPARATOR}${name}`;
    }
  }
}

/**
 * A one-to-one renaming of `names`: every new name valid on the wire for its `kind` (default
 * `tool`), distinct from every other new name and from every original (a renamed tool never takes
 * another tool's old name).
 */
export function renameAll(names: readonly string[], options: { style: RenameStyle; rng: Rng; kind?: NameKind }): Map<string, string> {
  const kind = options.kind ?? 'tool';
  const originals = new Set(names);
  const taken = new Set<string>();
  const out = new Map<string, string>();
  for (const name of names) {
    if (out.has(name)) continue;
    const fresh = (n: string) => VALID[kind].test(n) && !originals.has(n) && !taken.has(n);
    let chosen: string | undefined;
    for (const candidate of candidates(name, options.style, options.rng)) {
      if (!fresh(candidate)) continue;
      chosen = candidate;
      break;
    }
    // Nothing left (a word without synonyms, or every synonym taken): a suffix still says what it
    // is. Characters a name may not hold (a parameter may be called `café` or `first name`, a
    // tool `github.search`) become `_`, or no suffix would ever make the name valid.
    const stem = name.replace(INVALID_CHARACTER[kind], '_').slice(0, 58);
    for (let i = 2; !chosen; i++) {
      const base = `${stem}_v${i}`;
      if (fresh(base)) chosen = base;
    }
    taken.add(chosen);
    out.set(name, chosen);
  }
  return out;
}

/** Names that cannot be ordinary English words (`read_file`, `messageId`): safe to replace in free text. */
export function isIdentifierLike(name: string): boolean {
  return /[_.]/.test(name) || /[a-z][A-Z]/.test(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A function replacing whole-word occurrences of the mapped names, in one pass (so a chain a→b,
 * b→c never turns a into c), longest names first. The pattern is compiled once.
 */
export function nameReplacer(mapping: ReadonlyMap<string, string>): (text: string) => string {
  if (mapping.size === 0) return (text) => text;
  const keys = [...mapping.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(`(?<![A-Za-z0-9_])(${keys.join('|')})(?![A-Za-z0-9_])`, 'g');
  return (text) => text.replace(pattern, (found) => mapping.get(found) ?? found);
}
