// Reads a Dockerfile into the build steps that can be replayed in a sandbox: the files COPY/ADD
// put in the image (text or bytes, with their executable bit), WORKDIR changes and RUN scripts,
// in order, each with the environment (ARG and ENV) it would see. Only the last stage counts:
// earlier stages matter only through COPY --from, which needs Docker and is refused.
import { join, posix, relative, sep } from 'node:path';
import { pipelinesOf, splitLogicalLines, unquote } from './shell.ts';
import { TaskFolder } from './task-files.ts';

/** A file's content: text when it is UTF-8 without NUL bytes, else the raw bytes. */
export type FileContent = { text: string } | { bytes: Buffer };

export interface ImageFile {
  content: FileContent;
  executable: boolean;
}

export type DockerStep =
  /** Files placed at absolute container paths. */
  | { kind: 'copy'; at: string; files: Map<string, ImageFile>; directories: string[] }
  /** A tar archive ADD unpacks into `dest`. */
  | { kind: 'unpack'; at: string; archive: ImageFile; name: string; dest: string }
  | { kind: 'workdir'; at: string; path: string }
  | { kind: 'run'; at: string; script: string; shell: string[]; cwd: string; env: Record<string, string> };

export interface DockerfileImage {
  baseImage: string | null;
  /** The image's final WORKDIR, null when the Dockerfile sets none. */
  workdir: string | null;
  steps: DockerStep[];
  /** ENV of the final image: what commands in the container see. */
  env: Record<string, string>;
  adaptations: string[];
  /** Reasons the image cannot be reproduced offline. */
  problems: string[];
}

/** Docker's PATH for images that set none, so `ENV PATH=/x:$PATH` expands as it would there. */
export const DOCKER_DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** ADD unpacks these (local tar archives, compressed or not); everything else is copied as is. */
const TAR_ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz)$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text for UTF-8 files without NUL bytes; bytes for everything else (databases, images, blobs). */
export function contentOf(bytes: Buffer): FileContent {
  if (bytes.includes(0)) return { bytes };
  try {
    return { text: utf8.decode(bytes) };
  } catch {
    return { bytes };
  }
}

/** A file of the task folder (through its checks: inside the folder, a regular file, bounded). */
export function readContent(files: TaskFolder, path: string): ImageFile {
  const { bytes, executable } = files.read(path);
  return { content: contentOf(bytes), executable };
}

/** A .dockerignore pattern: `*` and `?` within a path segment, `**` across segments; a match covers what is below it. */
function ignorePattern(pattern: string): RegExp {
  let body = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (pattern.startsWith('**/', i)) {
      body += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      body += '.*';
      i += 1;
    } else if (c === '*') body += '[^/]*';
    else if (c === '?') body += '[^/]';
    else body += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${body}(?:/.*)?$`);
}

/**
 * The build context's .dockerignore as a predicate over paths relative to the context: the last
 * matching pattern decides, and `!` patterns take paths back in.
 */
function dockerignore(files: TaskFolder, context: string): (rel: string) => boolean {
  const path = join(context, '.dockerignore');
  if (files.kind(path) === null) return () => false;
  const text = files.text(path);
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const pattern = posix.normalize((include ? line.slice(1) : line).replace(/^\/+/, '')).replace(/\/+$/, '');
      return { include, pattern: ignorePattern(pattern) };
    });
  return (rel) => rules.reduce((ignored, rule) => (rule.pattern.test(rel) ? !rule.include : ignored), false);
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** Instruction arguments: JSON array form, or whitespace-separated words (quotes honoured). */
function argumentsOf(rest: string): string[] {
  return jsonArray(rest) ?? pipelinesOf(rest.trim()).flatMap((p) => p.commands.flatMap((c) => [...c.prefix, ...c.words].map((w) => unquote(w.raw))));
}

function jsonArray(rest: string): string[] | null {
  const trimmed = rest.trim();
  if (!trimmed.startsWith('[')) return null;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
  } catch {
    // not JSON: Docker treats it as the shell form
  }
  return null;
}

function expandVariables(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    return vars.get(name) ?? fallback ?? match;
  });
}

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What a RUN line runs: a heredoc body given alone is the script itself, as BuildKit runs it. */
function runScript(rest: string, heredoc: string[]): string {
  const exec = jsonArray(rest);
  if (exec) return exec.map(shellQuote).join(' ');
  if (/^<<-?\s*(['"]?)[A-Za-z_][A-Za-z0-9_]*\1$/.test(rest.trim())) return heredoc.slice(0, -1).join('\n');
  return [rest, ...heredoc].join('\n');
}

/** Docker drops comment lines inside a continued instruction; so do we, keeping line numbers. */
function withoutContinuedComments(text: string): string {
  const lines = text.split('\n');
  return lines.map((line, i) => (i > 0 && /\\$/.test(lines[i - 1]!) && /^\s*#/.test(line) ? '\\' : line)).join('\n');
}

interface Reader {
  files: TaskFolder;
  context: string;
  /** Whether .dockerignore keeps a path (relative to the context) out of COPY and ADD. */
  ignored: (rel: string) => boolean;
  where: string;
  image: DockerfileImage;
  current: string;
}

function copySources(reader: Reader, options: { sources: string[]; dest: string; line: number; instruction: string; chmod: boolean }): void {
  const { files, context, where, image, ignored } = reader;
  const { sources, dest, line, instruction } = options;
  const target = posix.resolve(reader.current, dest);
  const intoDir = dest.endsWith('/') || sources.length > 1;
  const at = `${where}:${line}`;
  const step: Extract<DockerStep, { kind: 'copy' }> = { kind: 'copy', at, files: new Map(), directories: [] };
  for (const source of sources) {
    if (/^(https?|git|ssh):\/\/|^git@/.test(source)) {
      image.problems.push(`${at}: ${instruction} ${source} fetches from the network`);
      continue;
    }
    const rel = posix.normalize(source.replace(/^\/+/, ''));
    if (rel.startsWith('..')) {
      image.problems.push(`${at}: ${instruction} source ${source} is outside the build context`);
      continue;
    }
    const inContext = (file: string) => relative(context, file).split(sep).join('/');
    const matches = (/[*?[]/.test(rel) ? files.list(context).filter((f) => globToRegExp(rel).test(inContext(f))) : [join(context, rel)]).filter((f) => !ignored(inContext(f)));
    if (matches.length === 0) image.problems.push(`${at}: ${instruction} source ${source} matches nothing in the build context`);
    for (const match of matches) {
      const kind = files.kind(match);
      if (kind === null) {
        image.problems.push(`${at}: ${instruction} source ${source} does not exist in the build context`);
        continue;
      }
      if (kind === 'directory') {
        step.directories.push(target);
        for (const file of files.list(match).filter((f) => !ignored(inContext(f)))) step.files.set(posix.join(target, relative(match, file).split(sep).join('/')), withMode(readContent(files, file), options.chmod));
        continue;
      }
      const to = intoDir || matches.length > 1 ? posix.join(target, posix.basename(match)) : target;
      if (instruction === 'ADD' && TAR_ARCHIVE.test(match)) {
        image.steps.push({ kind: 'unpack', at, archive: readContent(files, match), name: posix.basename(match), dest: target });
        continue;
      }
      step.files.set(to, withMode(readContent(files, match), options.chmod));
    }
  }
  if (step.files.size > 0) image.steps.push(step);
}

/** `--chmod=755` or `--chmod=u+x`: whether the copied files become executable. */
function chmodExecutable(flags: string[]): boolean {
  const mode = flags.find((f) => f.startsWith('--chmod='))?.slice('--chmod='.length);
  if (mode === undefined) return false;
  return /^[0-7]+$/.test(mode) ? (parseInt(mode, 8) & 0o111) !== 0 : /\+[rw]*x/.test(mode);
}

function withMode(file: ImageFile, chmod: boolean): ImageFile {
  return chmod ? { ...file, executable: true } : file;
}

/**
 * `path` is the Dockerfile, `context` the build context; `where` prefixes messages (`Dockerfile:7`).
 * `files` reads the task folder (default: the context is the whole of it).
 */
export function readDockerfile(options: { path: string; context: string; where: string; files?: TaskFolder }): DockerfileImage {
  const { path, context, where } = options;
  const files = options.files ?? new TaskFolder(context);
  const image: DockerfileImage = { baseImage: null, workdir: null, steps: [], env: {}, adaptations: [], problems: [] };
  const content = contentOf(files.read(path).bytes);
  if (!('text' in content)) return { ...image, problems: [`${where}: not a text file`] };
  const text = content.text;
  const reader: Reader = { files, context, where, image, current: '/', ignored: dockerignore(files, context) };
  let vars = new Map<string, string>([['PATH', DOCKER_DEFAULT_PATH]]);
  const stages = new Map<string, string>();
  let envNames = new Set<string>(['PATH']);
  let shell = DEFAULT_SHELL;
  for (const logical of splitLogicalLines(withoutContinuedComments(text))) {
    const raw = logical.text.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const match = /^(\S+)\s*(.*)$/s.exec(raw);
    if (!match) continue;
    const instruction = match[1]!.toUpperCase();
    const line = logical.number;
    const at = `${where}:${line}`;
    // RUN bodies go to the shell as written (it joins continued lines and expands variables itself).
    const rest = instruction === 'RUN' ? match[2]! : expandVariables(match[2]!.replace(/\\\n/g, ' '), vars);
    switch (instruction) {
      case 'FROM': {
        const words = argumentsOf(rest).filter((w) => !w.startsWith('--'));
        // `FROM build` names an earlier stage: the image under it is that stage's base.
        const named = words[0] === undefined ? null : (stages.get(words[0].toLowerCase()) ?? words[0]);
        image.baseImage = named;
        if (words.length >= 3 && words[1]?.toUpperCase() === 'AS' && named !== null) stages.set(words[2]!.toLowerCase(), named);
        image.steps = [];
        image.workdir = null;
        reader.current = '/';
        vars = new Map([['PATH', DOCKER_DEFAULT_PATH]]);
        envNames = new Set(['PATH']);
        shell = DEFAULT_SHELL;
        break;
      }
      case 'WORKDIR':
        reader.current = posix.resolve(reader.current, argumentsOf(rest)[0] ?? '/');
        image.workdir = reader.current;
        image.steps.push({ kind: 'workdir', at, path: reader.current });
        break;
      case 'ARG':
      case 'ENV': {
        const pairs = argumentsOf(rest);
        const legacy = instruction === 'ENV' && pairs.length >= 2 && !pairs[0]!.includes('=');
        const entries = legacy ? [[pairs[0]!, pairs.slice(1).join(' ')]] : pairs.map((p) => p.split(/=(.*)/s).slice(0, 2));
        for (const [name, value] of entries) {
          if (!name) continue;
          // `ARG NAME` without a default keeps an ENV of the same name; an unset ARG stays unset.
          if (value !== undefined) vars.set(name, value);
          if (instruction === 'ENV') envNames.add(name);
        }
        break;
      }
      case 'SHELL': {
        const words = jsonArray(rest);
        if (words && words.length > 0) shell = words;
        else image.problems.push(`${at}: SHELL needs the JSON array form, e.g. SHELL ["/bin/bash", "-c"]`);
        break;
      }
      case 'COPY':
      case 'ADD': {
        const words = argumentsOf(rest);
        const flags = words.filter((w) => w.startsWith('--'));
        const from = flags.find((f) => f.startsWith('--from'));
        if (from) {
          image.problems.push(`${at}: ${instruction} ${from} copies from another image or build stage, which needs Docker`);
          break;
        }
        const chmod = chmodExecutable(flags);
        const args = words.filter((w) => !w.startsWith('--'));
        if (args.some((a) => a.startsWith('<<'))) {
          const dest = posix.resolve(reader.current, args[args.length - 1]!);
          const body = `${logical.heredoc.slice(0, -1).join('\n')}\n`;
          image.steps.push({ kind: 'copy', at, files: new Map([[dest, { content: { text: body }, executable: chmod }]]), directories: [] });
          break;
        }
        if (args.length < 2) {
          image.problems.push(`${at}: ${instruction} needs a source and a destination`);
          break;
        }
        copySources(reader, { sources: args.slice(0, -1), dest: args[args.length - 1]!, line, instruction, chmod });
        break;
      }
      case 'RUN': {
        const body = rest.replace(/^(--\S+\s+)+/, '');
        const flags = rest.slice(0, rest.length - body.length).trim();
        if (flags) image.adaptations.push(`${at}: RUN options ignored (${flags})`);
        const env = Object.fromEntries(vars);
        image.steps.push({ kind: 'run', at, script: runScript(body, logical.heredoc), shell, cwd: reader.current, env });
        break;
      }
      case 'USER':
        image.adaptations.push(`${at}: USER ${rest.trim()} ignored (commands run as the sandbox's own user)`);
        break;
      default:
        break;
    }
  }
  image.env = Object.fromEntries([...envNames].filter((name) => vars.has(name)).map((name) => [name, vars.get(name)!]));
  return image;
}
