// Environment perturbations: another seeded world, bigger or smaller background data, more files
// around a task's own. They use the knobs the built-in environments really have (listed below,
// read from their seeds); where an environment has none, the perturbation says it cannot apply
// rather than pretending. The task's own fixtures, paths and checks never move.
import { z } from 'zod';
import { DefectError, hashString, type JsonObject, type JsonValue, type Rng, type Task } from '../core/index.ts';
import { isObject } from './json-schema.ts';
import { definePerturbation } from './types.ts';

/** Background sizes each environment seeds when a task says nothing (see their seed functions). */
const DEFAULT_BACKGROUND = {
  mail: { min: 40, max: 110 },
  workplaceMail: { min: 30, max: 60 },
  workplaceChat: { min: 40, max: 90 },
} as const;

type Range = { min: number; max: number };

function rangeOf(value: JsonValue | undefined, fallback: Range): Range | null {
  if (value === false) return null;
  if (isObject(value) && typeof value.min === 'number' && typeof value.max === 'number') return { min: value.min, max: value.max };
  return fallback;
}

/** Why a task's world does not depend on the seed, or null when it does. */
function seededWorld(task: Task): string | null {
  const state = task.initialState;
  switch (task.env) {
    case 'mail':
      return state.background === false ? 'the task turns off mail background' : null;
    case 'notes':
    case 'calendar':
      return state.background === false ? `the task turns off the ${task.env} background` : null;
    case 'workplace':
      return null;
    case 'terminal':
      return isObject(state.noise) ? null : 'the task seeds no noise files (its files are fixed)';
    case 'qa':
      return 'qa has no world: its questions are fixed text';
    case 'coding':
      return 'coding tasks start from fixed project files';
    default:
      return `no seeded world is known for environment "${task.env}"`;
  }
}

export const reseed = definePerturbation({
  id: 'environment.reseed',
  family: 'environment',
  summary: 'another seeded world for the same task: different background data around the same fixtures',
  randomised: () => true,
  params: z.object({}).strict(),
  supports: (target) => seededWorld(target.task),
  apply(_target, { rng }) {
    const salt = rng.int(0, 2 ** 31);
    return { reseed: (seed) => hashString(`reseed:${salt}:${seed}`) };
  },
});

function scaled(range: Range, scale: number, cap = Number.MAX_SAFE_INTEGER): Range {
  const min = Math.min(cap - 1, Math.max(0, Math.round(range.min * scale)));
  return { min, max: Math.min(cap, Math.max(min + 1, Math.round(range.max * scale))) };
}

/** The initial state with its background sizes scaled, or why it has none to scale. */
function resized(task: Task, scale: number): JsonObject | string {
  const state = task.initialState;
  switch (task.env) {
    case 'mail': {
      const range = rangeOf(state.background, DEFAULT_BACKGROUND.mail);
      return range ? { ...state, background: scaled(range, scale) } : 'the task turns off mail background';
    }
    case 'workplace': {
      const mail = isObject(state.mail) ? state.mail : {};
      const chat = isObject(state.chat) ? state.chat : {};
      const mailRange = rangeOf(mail.background, DEFAULT_BACKGROUND.workplaceMail);
      const chatRange = rangeOf(chat.background, DEFAULT_BACKGROUND.workplaceChat);
      if (!mailRange && !chatRange) return 'the task turns off mail and chat background';
      return {
        ...state,
        mail: mailRange ? { ...mail, background: scaled(mailRange, scale) } : mail,
        chat: chatRange ? { ...chat, background: scaled(chatRange, scale) } : chat,
      };
    }
    case 'terminal': {
      const noise = state.noise;
      if (!isObject(noise) || typeof noise.count !== 'number') return 'the task seeds no noise files';
      // The terminal environment takes at most 50 noise files.
      return { ...state, noise: { ...noise, count: Math.min(50, Math.max(1, Math.round(noise.count * scale))) } };
    }
    case 'notes':
    case 'calendar':
      return `${task.env} seeds a background of fixed size (only on or off)`;
    case 'qa':
      return 'qa has no world: its questions are fixed text';
    case 'coding':
      return 'coding tasks start from fixed project files';
    default:
      return `no background size is known for environment "${task.env}"`;
  }
}

export const size = definePerturbation({
  id: 'environment.size',
  family: 'environment',
  summary: 'scales the seeded background (mail and chat messages, noise files) by `scale`',
  randomised: () => false,
  params: z.object({ scale: z.number().min(0.25).max(4).default(2) }).strict(),
  supports(target, params) {
    const out = resized(target.task, params.scale);
    return typeof out === 'string' ? out : null;
  },
  apply(target, { params }) {
    const out = resized(target.task, params.scale);
    if (typeof out === 'string') throw new DefectError('gauntlet', `environment.size applied where it cannot: ${out}`);
    return { task: { ...target.task, initialState: out } };
  },
});

// Folders and names a task's own globs and searches are unlikely to reach: backups, not sources.
const CLUTTER_DIRS = ['archive/2024', 'archive/old-drafts', 'vendor/bundle', '.cache/tool', 'backup', 'misc/scratch'] as const;
const CLUTTER_WORDS = ['kept', 'for', 'reference', 'only', 'superseded', 'copy', 'draft', 'archived', 'notes', 'from', 'earlier', 'revision', 'see', 'history'] as const;
const CLUTTER_EXTENSIONS = ['.bak', '.orig', '.old'] as const;

function clutter(rng: Rng, count: number, avoid: readonly string[]): Record<string, string> {
  const dirs = CLUTTER_DIRS.filter((d) => !avoid.some((p) => p === d || p.startsWith(`${d}/`) || d.startsWith(`${p.split('/')[0]}/`)));
  const files: Record<string, string> = {};
  for (let i = 0; i < count && dirs.length > 0; i++) {
    const stem = Array.from({ length: 2 }, () => rng.pick(CLUTTER_WORDS)).join('-');
    const path = `${rng.pick(dirs)}/${stem}-${i + 1}${rng.pick(CLUTTER_EXTENSIONS)}`;
    const lines = Array.from({ length: rng.int(1, 5) }, () => Array.from({ length: rng.int(3, 9) }, () => rng.pick(CLUTTER_WORDS)).join(' '));
    files[path] = `${lines.join('\n')}\n`;
  }
  return files;
}

function taskFiles(task: Task): Record<string, JsonValue> | null {
  if (task.env !== 'terminal' && task.env !== 'coding') return null;
  return isObject(task.initialState.files) ? task.initialState.files : task.env === 'coding' ? {} : null;
}

export const layout = definePerturbation({
  id: 'environment.layout',
  family: 'environment',
  summary: 'surrounds a terminal or coding task’s files with unrelated folders of backup files (its own paths stay put)',
  randomised: () => true,
  params: z.object({ files: z.number().int().min(1).max(40).default(8) }).strict(),
  supports(target) {
    if (taskFiles(target.task) !== null) return null;
    return target.task.env === 'terminal' || target.task.env === 'coding' ? 'the task has no files to surround' : `only terminal and coding tasks have a file layout (not ${target.task.env})`;
  },
  apply(target, { rng, params }) {
    const own = taskFiles(target.task) ?? {};
    const extra = clutter(rng, params.files, Object.keys(own));
    // The task's own files win on a clash, so nothing it expects can change.
    return { task: { ...target.task, initialState: { ...target.task.initialState, files: { ...extra, ...own } } } };
  },
});
