// Reads the parts of a Dockerfile that matter offline: the final WORKDIR and the files COPY/ADD put
// in the image (from the build context, or heredocs). RUN lines cannot be replayed without the
// network or Docker; they are recorded as adaptations.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { networkReason } from './offline.ts';
import { pipelinesOf, splitLogicalLines, unquote } from './shell.ts';

export interface DockerfileImage {
  baseImage: string | null;
  /** The image's final WORKDIR, null when the Dockerfile sets none. */
  workdir: string | null;
  /** Absolute container path → text content. */
  files: Map<string, string>;
  /** Destination folders of directory copies (COPY dir/ /opt/x/), for placing them as a whole. */
  directories: Set<string>;
  adaptations: string[];
  /** Reasons the image cannot be reproduced offline. */
  problems: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The file's text, or null when it is binary (NUL bytes or not UTF-8). */
export function readText(path: string): string | null {
  const bytes = readFileSync(path);
  if (bytes.includes(0)) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.isFile() ? [path] : [];
    });
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** Instruction arguments: JSON array form, or whitespace-separated words (quotes honoured). */
function argumentsOf(rest: string): string[] {
  const trimmed = rest.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
    } catch {
      // not JSON: Docker treats it as the shell form
    }
  }
  return pipelinesOf(trimmed).flatMap((p) => p.commands.flatMap((c) => [...c.prefix, ...c.words].map((w) => unquote(w.raw))));
}

function expandVariables(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    return vars.get(name) ?? fallback ?? match;
  });
}

/**
 * `path` is the Dockerfile, `context` the build context; `where` prefixes messages. Only the last
 * build stage counts (multi-stage builds copy between stages, which needs Docker).
 */
export function readDockerfile(options: { path: string; context: string; where: string }): DockerfileImage {
  const { path, context, where } = options;
  const image: DockerfileImage = { baseImage: null, workdir: null, files: new Map(), directories: new Set(), adaptations: [], problems: [] };
  const text = readText(path);
  if (text === null) return { ...image, problems: [`${where}: not a text file`] };
  const vars = new Map<string, string>();
  const envNames: string[] = [];
  let current = '/';
  const copy = (sources: string[], dest: string, line: number, instruction: string) => {
    const target = posix.resolve(current, dest);
    const intoDir = dest.endsWith('/') || sources.length > 1;
    for (const source of sources) {
      if (/^(https?|git|ssh):\/\/|^git@/.test(source)) {
        image.problems.push(`${where}:${line}: ${instruction} ${source} fetches from the network`);
        continue;
      }
      if (instruction === 'ADD' && /\.(tar|tar\.gz|tgz|tar\.bz2|tar\.xz|zip)$/.test(source)) {
        image.problems.push(`${where}:${line}: ADD ${source} unpacks an archive, which cannot be placed as text files`);
        continue;
      }
      const rel = posix.normalize(source.replace(/^\/+/, ''));
      if (rel.startsWith('..')) {
        image.problems.push(`${where}:${line}: ${instruction} source ${source} is outside the build context`);
        continue;
      }
      const matches = /[*?[]/.test(rel)
        ? walk(context).filter((f) => globToRegExp(rel).test(relative(context, f).split(sep).join('/')))
        : [join(context, rel)];
      if (matches.length === 0) image.problems.push(`${where}:${line}: ${instruction} source ${source} matches nothing in the build context`);
      for (const match of matches) {
        let stat;
        try {
          stat = statSync(match);
        } catch {
          image.problems.push(`${where}:${line}: ${instruction} source ${source} does not exist in the build context`);
          continue;
        }
        if (stat.isDirectory()) image.directories.add(target);
        const entries = stat.isDirectory() ? walk(match).map((f) => ({ file: f, to: posix.join(target, relative(match, f).split(sep).join('/')) })) : [{ file: match, to: intoDir || matches.length > 1 ? posix.join(target, posix.basename(match)) : target }];
        for (const entry of entries) {
          const content = readText(entry.file);
          if (content === null) image.problems.push(`${where}:${line}: ${relative(context, entry.file)} is binary; only text files can be placed in a sandbox`);
          else image.files.set(entry.to, content);
        }
      }
    }
  };
  for (const logical of splitLogicalLines(text)) {
    const line = logical.text.replace(/\\\n/g, ' ');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^(\S+)\s*(.*)$/s.exec(trimmed);
    if (!match) continue;
    const instruction = match[1]!.toUpperCase();
    const rest = expandVariables(match[2]!, vars);
    const at = logical.number;
    switch (instruction) {
      case 'FROM': {
        // A new stage starts from scratch: earlier stages only matter through COPY --from.
        const words = argumentsOf(rest).filter((w) => !w.startsWith('--'));
        image.baseImage = words[0] ?? null;
        image.files.clear();
        image.directories.clear();
        current = '/';
        image.workdir = null;
        break;
      }
      case 'WORKDIR':
        current = posix.resolve(current, argumentsOf(rest)[0] ?? '/');
        image.workdir = current;
        break;
      case 'ARG':
      case 'ENV': {
        const pairs = argumentsOf(rest);
        const legacy = instruction === 'ENV' && pairs.length >= 2 && !pairs[0]!.includes('=');
        const entries = legacy ? [[pairs[0]!, pairs.slice(1).join(' ')]] : pairs.map((p) => p.split(/=(.*)/s).slice(0, 2));
        for (const [name, value] of entries) {
          if (!name) continue;
          if (value !== undefined) vars.set(name, value);
          if (instruction === 'ENV') envNames.push(name);
        }
        break;
      }
      case 'COPY':
      case 'ADD': {
        const words = argumentsOf(rest);
        const flags = words.filter((w) => w.startsWith('--'));
        const from = flags.find((f) => f.startsWith('--from'));
        if (from) {
          image.problems.push(`${where}:${at}: ${instruction} ${from} copies from another image or build stage, which needs Docker`);
          break;
        }
        const args = words.filter((w) => !w.startsWith('--'));
        const heredocs = args.filter((a) => a.startsWith('<<'));
        if (heredocs.length > 0) {
          const dest = args[args.length - 1]!;
          const body = logical.heredoc.slice(0, -1).join('\n');
          image.files.set(posix.resolve(current, dest), `${body}\n`);
          break;
        }
        if (args.length < 2) {
          image.problems.push(`${where}:${at}: ${instruction} needs a source and a destination`);
          break;
        }
        copy(args.slice(0, -1), args[args.length - 1]!, at, instruction);
        break;
      }
      case 'RUN': {
        const body = [rest, ...logical.heredoc].join('\n');
        const network = pipelinesOf(body).flatMap((p) => p.commands).some((c) => networkReason(c.words.map((w) => unquote(w.raw))) !== null);
        image.adaptations.push(
          network
            ? `${where}:${at}: RUN not replayed (installs packages or fetches from the network; the sandbox has what its host has): ${summary(rest)}`
            : `${where}:${at}: RUN not replayed (only files the Dockerfile copies are placed): ${summary(rest)}`,
        );
        break;
      }
      case 'USER':
        image.adaptations.push(`${where}:${at}: USER ${rest.trim()} ignored (commands run as the sandbox's own user)`);
        break;
      default:
        break;
    }
  }
  if (envNames.length > 0) image.adaptations.push(`${where}: ENV not set in the sandbox: ${[...new Set(envNames)].join(', ')}`);
  return image;
}

function summary(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}
