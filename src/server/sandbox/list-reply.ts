// Listings on the sandbox server: a work dir of many files lists at about a hundred bytes a file,
// so a listing is counted (entry by entry, before its reply is made) and held in the body budget
// until it has been sent. One larger than the whole budget is `too_large`; one that does not fit
// beside what is held now is `capacity` (a listing changes nothing, so the client asks again).
import type { FileEntry } from '../../core/index.ts';
import { describeBytes, type BodyBudget } from '../body-budget.ts';
import { BudgetShare, busyMessage, streamReply, type ReplyRefusal } from './held-reply.ts';

const HEAD = '{"files":[';
const TAIL = ']}';
/** Characters of entries one chunk of the reply gathers before it is handed on. */
const CHUNK_CHARS = 64 * 1024;

/** One entry as the reply carries it: the protocol's fields, in its order. */
const entryText = (entry: FileEntry): string => JSON.stringify({ path: entry.path, size: entry.size, sha256: entry.sha256 });

/** A listing counted and taken from the budget. */
export interface HeldListing {
  files: readonly FileEntry[];
  /** Its reply's bytes: `{"files":[…]}`, as JSON.stringify would make it. */
  length: number;
  share: BudgetShare;
}

/** The listing counted and held within `budget`, or why not. */
export function holdListing(files: readonly FileEntry[], budget: BodyBudget): HeldListing | ReplyRefusal {
  let length = HEAD.length + TAIL.length + Math.max(0, files.length - 1);
  for (const entry of files) length += Buffer.byteLength(entryText(entry), 'utf8');
  if (length > budget.limitBytes) {
    return {
      code: 'too_large',
      message: `sandbox listFiles: the listing of ${files.length} files is ${length} bytes, more than the ${describeBytes(budget.limitBytes)} the server holds for ${budget.holds} at once (--max-body-memory)`,
    };
  }
  const share = BudgetShare.take(budget, length);
  return share ? { files, length, share } : { code: 'capacity', message: busyMessage(budget, `this listing's ${length} bytes`) };
}

/** The listing's reply, made a chunk of entries at a time as the connection takes it (held-reply.ts). */
export function listReply(held: HeldListing, signal: AbortSignal): Response {
  const { files } = held;
  let index = 0;
  let done = false;
  const next = () => {
    let text = index === 0 ? HEAD : '';
    while (index < files.length && text.length < CHUNK_CHARS) {
      text += (index > 0 ? ',' : '') + entryText(files[index]!);
      index++;
    }
    if (index === files.length) {
      text += TAIL;
      done = true;
    }
    return Buffer.from(text, 'utf8');
  };
  return streamReply({ length: held.length, next, done: () => done }, held.share, signal);
}
