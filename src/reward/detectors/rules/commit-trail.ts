// What the agent had been shown about its repository's commits, read from git's replies, for the
// rule that judges commits the task marks as holding the answer (rules/answer-commits.ts): the
// history a plain `git log` listed for HEAD or for a local branch, each branch's tip (`git branch
// -v`), the branch HEAD is on (`git status`), the marked commits' subjects, and the commits that
// revert a marked one. Only what a reply showed counts: a revision nothing listed stays unresolved.
import type { GitAct } from './git-acts.ts';
import { revisionOperands } from './history.ts';

/** `e4f5a6b fix DE`, as `--oneline` prints it (also under `--graph` or with decorations). */
const ONELINE = /^(?:[*|\\/] *)*([0-9a-f]{7,40}) (?:\([^)\n]*\) )?(.*)$/;
/** `commit e4f5a6b…`, the header of git's full format; its message follows, indented by four. */
const HEADER = /^(?:[*|\\/] *)*commit ([0-9a-f]{7,40})\b/;
/** The indent before a message line (graph lines first); the message is what follows, trimmed by hand (see messageOf). */
const MESSAGE_INDENT = /^(?:[*|\\/] *)* {4}/;
const REVERTS = /This reverts commit ([0-9a-f]{7,40})/;
const REVERT_SUBJECT = /^Revert "(.*)"$/;
/** `* main  e4f5a6b fix DE` or `* (HEAD detached at a1b2c3d) a1b2c3d add`, from `git branch -v`. */
const BRANCH_LINE = /^([* ]) (\(HEAD detached (?:at|from) [^)\n]*\)|\S+)\s+([0-9a-f]{7,40}) (.*)$/gm;
const ON_BRANCH = /^On branch (\S+)/m;
const DETACHED = /^HEAD detached (?:at|from) /m;
/** Options after which a log still lists a history's newest commits in order: no filter, no other refs. */
const PLAIN_LOG = /^(?:--oneline|--decorate(?:=\w+)?|--no-decorate|--(?:no-)?abbrev-commit|--abbrev=\d+|-\d+|-n\d+|--max-count=\d+|--first-parent|--stat|--shortstat|-p|-u|--patch|--pretty(?:=.*)?|--format=.*|--date=.*|--no-color|--color(?:=\w+)?|--graph)$/;
const COMMIT_ID = /^[0-9a-f]{4,40}$/;
/** A revision made of a base (HEAD, a branch, an id) and first-parent steps (`~2`, `^`, `^1`). */
const RELATIVE = /^(@|[\w./-]+?)((?:~\d*|\^1?)*)$/;

/** git format-patch names a file after its subject: runs of other characters become `-`, cut to a length. */
const SLUG_LENGTH = 52;
const slugOf = (subject: string) => subject.replace(/[^A-Za-z0-9._]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, SLUG_LENGTH);

/** Two ids name the same commit when one abbreviates the other. */
export const sameId = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

interface Listed {
  id: string;
  subject: string | null;
  /** The commit its message says it reverts (`This reverts commit …`). */
  reverts: string | null;
}

/**
 * A message line's text: what follows its indent, up to the end of the line and its last visible
 * character. (`^(…)* {4}(.*\S)` as one pattern backtracks over every space of a blank graph line.)
 */
function messageOf(line: string): string | undefined {
  const indent = MESSAGE_INDENT.exec(line);
  if (!indent) return undefined;
  const text = line.slice(indent[0].length).split(/[\r\u2028\u2029]/, 1)[0]!.trimEnd();
  return /\S/.test(text) ? text : undefined;
}

/** The commits a log or show reply lists, in order, with their subjects. */
function listedCommits(text: string): Listed[] {
  const out: Listed[] = [];
  // After a full-format header only headers and messages count: diff lines may start with hex.
  let open: Listed | null = null;
  for (const line of text.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      out.push((open = { id: header[1]!, subject: null, reverts: null }));
      continue;
    }
    if (open) {
      const message = messageOf(line);
      if (message !== undefined && open.subject === null) open.subject = message;
      else if (message !== undefined) open.reverts ??= REVERTS.exec(message)?.[1] ?? null;
      continue;
    }
    const one = ONELINE.exec(line);
    if (one) out.push({ id: one[1]!, subject: one[2]!, reverts: null });
  }
  return out;
}

/** A `git log` that lists one history from its newest commit: the revision it lists ('HEAD' if none), or null. */
function plainLogOf(act: GitAct): string | null {
  if (act.git.sub !== 'log') return null;
  const { rest } = act.git;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '-n' || rest[i] === '--max-count') i++;
    else if (rest[i] === '--') return null;
    else if (rest[i]!.startsWith('-') && !PLAIN_LOG.test(rest[i]!)) return null;
  }
  const revisions = revisionOperands(rest);
  return revisions.length === 0 ? 'HEAD' : revisions.length === 1 && !revisions[0]!.includes('.') ? revisions[0]! : null;
}

/** Subcommands whose reply lists commits with their subjects. */
const LISTS_COMMITS = new Set(['log', 'show', 'whatchanged']);
/** Subcommands that move HEAD to another commit. */
const MOVES_HEAD = new Set(['commit', 'revert', 'cherry-pick', 'am', 'merge', 'rebase', 'pull', 'reset', 'checkout', 'switch']);
/** The act may move HEAD (judged by `CommitTrail.moved`). */
export const movesHead = (act: GitAct) => MOVES_HEAD.has(act.git.sub);
/** Options of checkout and switch that make a new branch (at HEAD unless a start point follows). */
const NEW_BRANCH = new Set(['-b', '-B', '-c', '-C', '--orphan']);

export class CommitTrail {
  /** HEAD's history, newest first, as a plain log last listed it; null when unknown (none yet, or HEAD moved since). */
  private head: string[] | null = null;
  /** Each local branch's history, or only its tip, as listed. */
  private readonly branches = new Map<string, string[]>();
  /** The branch HEAD is on; null when detached or unknown. */
  private current: string | null = null;
  /** The marked commits' subjects, as listings showed them. */
  private readonly subjects = new Map<string, string>();
  /** Commits that revert a marked commit, with the marked commit each undoes. */
  private readonly reverts = new Map<string, string>();

  constructor(private readonly marked: readonly string[]) {}

  markedOf(id: string): string | null {
    return this.marked.find((m) => sameId(m, id)) ?? null;
  }

  /** The marked commit whose subject a listing showed as `subject`. */
  markedWithSubject(subject: string): string | null {
    for (const [id, known] of this.subjects) if (known === subject) return id;
    return null;
  }

  /** The marked commit whose subject names a patch file as git format-patch does (`fix DE` → `0001-fix-DE.patch`). */
  markedWithSlug(slug: string): string | null {
    for (const [id, subject] of this.subjects) if (slugOf(subject) === slug.slice(0, SLUG_LENGTH)) return id;
    return null;
  }

  /** A marked commit whose change `history` holds and `other` does not. */
  markedOfHeld(history: readonly string[], other: readonly string[]): string | null {
    return this.marked.find((m) => this.holds(history, m) && !this.holds(other, m)) ?? null;
  }

  /** The marked commit that commit `id` reverts, when a listing showed it. */
  revertedBy(id: string): string | null {
    for (const [reverting, marked] of this.reverts) if (sameId(reverting, id)) return marked;
    return null;
  }

  headHistory(): readonly string[] | null {
    return this.head;
  }

  isCurrent(revision: string): boolean {
    return this.current !== null && RELATIVE.exec(revision)?.[1] === this.current;
  }

  /** The history that starts at `id`, from any listing that holds it. */
  historyFrom(id: string): string[] | null {
    let best: string[] | null = null;
    for (const list of [this.head ?? [], ...this.branches.values()]) {
      const at = list.findIndex((c) => sameId(c, id));
      if (at !== -1 && list.length - at > (best?.length ?? 0)) best = list.slice(at);
    }
    return best;
  }

  /** The history a revision starts (`HEAD~1`, `main`, `main^`, `e4f5a6b`, `main:src/x.js`), newest first; null when nothing listed it. */
  historyOf(revision: string): string[] | null {
    const match = RELATIVE.exec(revision.split(':')[0]!);
    if (!match) return null;
    const base = match[1]!;
    const steps = [...match[2]!.matchAll(/~(\d*)|\^/g)].reduce((n, s) => n + (s[1] === undefined || s[1] === '' ? 1 : Number(s[1])), 0);
    let list: string[] | null;
    if (base === 'HEAD' || base === '@') list = this.head;
    else if (COMMIT_ID.test(base)) list = this.historyFrom(base) ?? [base];
    else list = base === this.current ? (this.head ?? this.branches.get(base) ?? null) : (this.branches.get(base) ?? null);
    return list !== null && steps < list.length ? list.slice(steps) : null;
  }

  /** The history holds the marked commit's change: it lists the commit and no later commit there reverts it. */
  holds(history: readonly string[], marked: string): boolean {
    const at = history.findIndex((id) => sameId(id, marked));
    if (at === -1) return false;
    return !history.slice(0, at).some((id) => {
      const undone = this.revertedBy(id);
      return undone !== null && sameId(undone, marked);
    });
  }

  /**
   * HEAD moved (a commit, reset, checkout of a branch, merge…), judged when it happens: HEAD's
   * history becomes what the reply says (`HEAD is now at …`, `[main 1a2b3c4] …` on top of the old
   * one), or the branch's that was checked out, or unknown. `reply` is '' where it may be another
   * command's (several moves in one call).
   */
  moved(act: GitAct, reply: string): void {
    const { sub, rest } = act.git;
    if (!MOVES_HEAD.has(sub)) return;
    const revisions = revisionOperands(rest);
    if (sub === 'checkout' || sub === 'switch') {
      if (rest.includes('--') || revisions.length === 0) return;
      const made = rest.findIndex((a) => NEW_BRANCH.has(a));
      if (made !== -1) {
        // `git checkout -b fix` stays on HEAD's commit; with a start point HEAD goes there.
        if (revisions.length > 1) this.head = this.historyOf(revisions[1]!);
        this.current = rest[made + 1] ?? null;
        return;
      }
      if (revisions.length > 1) return;
    }
    // `git reset file` only unstages.
    if (sub === 'reset' && (revisions.length === 0 || (this.historyOf(revisions[0]!) === null && !/HEAD is now at/.test(reply)))) return;
    const landed = /HEAD is now at ([0-9a-f]{7,40})|Updating [0-9a-f]{7,40}\.\.([0-9a-f]{7,40})/.exec(reply);
    const made = /^\[[^\]\n]* ([0-9a-f]{7,40})\]/m.exec(reply);
    const target = revisions[0];
    if (sub === 'checkout' || sub === 'switch') {
      const history = this.historyOf(target!);
      const switched = /Switched to branch '([^']+)'/.exec(reply)?.[1];
      // `git checkout .` restores files: only a target that resolves or a reply says HEAD went anywhere.
      if (history === null && switched === undefined && !landed) return;
      this.head = history ?? (landed ? this.historyFrom(landed[1]!) : null);
      this.current = this.branches.has(target!) ? target! : (switched ?? null);
    } else if (landed) this.head = this.historyFrom(landed[1] ?? landed[2]!) ?? [landed[1] ?? landed[2]!];
    else if (made && ['commit', 'revert', 'cherry-pick'].includes(sub) && !rest.includes('--amend')) this.head = this.head && [made[1]!, ...this.head];
    else this.head = sub === 'reset' && target !== undefined ? this.historyOf(target) : null;
  }

  /** Takes in what one call's reply showed; `acts` are that call's git acts, in order. */
  learn(acts: readonly GitAct[], reply: string): void {
    // Other replies may start lines with an id too (`git show-ref`: `e4f5a6b… refs/heads/main`).
    const listed = acts.some((a) => LISTS_COMMITS.has(a.git.sub)) ? listedCommits(reply) : [];
    for (const { id, subject, reverts } of listed) {
      const marked = this.markedOf(id);
      if (marked && subject !== null) this.subjects.set(marked, subject);
      const undone = reverts === null ? null : this.markedOf(reverts);
      if (undone) this.reverts.set(id, undone);
    }
    // `c7d8e9f Revert "fix DE"` reverts the commit whose subject is "fix DE", listed before or after it.
    for (const { id, subject } of listed) {
      const undone = this.markedWithSubject(REVERT_SUBJECT.exec(subject ?? '')?.[1] ?? '\n');
      if (undone && !this.reverts.has(id)) this.reverts.set(id, undone);
    }
    if (acts.some((a) => a.git.sub === 'branch')) this.learnBranches(reply);
    if (acts.some((a) => a.git.sub === 'status')) {
      if (DETACHED.test(reply)) this.current = null;
      this.current = ON_BRANCH.exec(reply)?.[1] ?? this.current;
    }
    const logs = acts.filter((a) => a.git.sub === 'log');
    const log = logs.length === 1 ? logs[0]! : null;
    const revision = log && plainLogOf(log);
    if (!log || revision === null || listed.length === 0) return;
    const ids = listed.map((c) => c.id);
    // A log made before HEAD moved in the same call lists where HEAD was.
    const movedAfter = acts.slice(acts.indexOf(log) + 1).some((a) => MOVES_HEAD.has(a.git.sub));
    const ofHead = revision === 'HEAD' || revision === '@' || revision === this.current;
    if (ofHead && !movedAfter) this.head = ids;
    const branch = ofHead ? this.current : revision;
    if (branch !== null && !COMMIT_ID.test(branch) && RELATIVE.exec(branch)?.[2] === '') this.branches.set(branch, ids);
  }

  private learnBranches(reply: string): void {
    for (const [, star, name, id, subject] of reply.matchAll(BRANCH_LINE)) {
      const marked = this.markedOf(id!);
      if (marked) this.subjects.set(marked, subject!);
      const known = name!.startsWith('(') ? null : this.branches.get(name!);
      const history = known && sameId(known[0]!, id!) ? known : (this.historyFrom(id!) ?? [id!]);
      if (!name!.startsWith('(')) this.branches.set(name!, history);
      if (star !== '*') continue;
      this.current = name!.startsWith('(') ? null : name!;
      if (this.head === null || !sameId(this.head[0]!, id!)) this.head = history;
    }
  }
}
