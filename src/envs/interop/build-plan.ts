// Turns a Dockerfile's steps into the build a `harbor` sandbox replays at reset: paths relative to
// the work dir (mounted at the image's WORKDIR), image folders outside it placed under .image-root,
// RUN scripts with their network commands skipped. What was skipped is listed, never hidden.
import { posix } from 'node:path';
import { adaptTestScript } from './adapt-script.ts';
import type { DockerfileImage, ImageFile } from './dockerfile.ts';
import type { BuildStep, PlacedFile } from './harbor-state.ts';
import { imagePlacement, IMAGE_ROOT, mapPaths, relativeInside, type PathMapping } from './paths.ts';
import { pipelinesOf, splitLogicalLines, unquote } from './shell.ts';

/** Paths the harness owns in the container; image files there are not placed. */
const HARNESS_DIRS = ['/tests', '/solution', '/logs'];
/** Bytes an image may place; the task file carries them (binary ones as base64). */
export const MAX_PLACED_BYTES = 32 * 1024 * 1024;

export interface BuildPlan {
  steps: BuildStep[];
  /** Container paths outside the WORKDIR → where they are placed, relative to the work dir. */
  imagePaths: Record<string, string>;
  /** Container path → absolute sandbox path, for rewriting text that names image folders. */
  mapping: PathMapping;
  env: Record<string, string>;
  /** Network commands skipped (whole RUN steps or parts of them), one line each. */
  skipped: string[];
  /** Executables the image places on PATH (commands the task brings itself). */
  provided: Set<string>;
  /** Python modules the image ships (for telling missing modules from local ones). */
  localModules: Set<string>;
  adaptations: string[];
  problems: string[];
}

function isHarness(path: string): boolean {
  return HARNESS_DIRS.some((h) => path === h || path.startsWith(`${h}/`));
}

function placed(path: string, file: ImageFile, text: (t: string) => string): PlacedFile {
  const content = 'text' in file.content ? { text: text(file.content.text) } : { base64: file.content.bytes.toString('base64') };
  return { path, ...content, executable: file.executable };
}

/** Whether an adapted script still does something once its skipped lines are comments and `true`s. */
function doesAnything(script: string): boolean {
  return splitLogicalLines(script).some((line) =>
    pipelinesOf(line.text).some((p) => p.commands.some((c) => c.words.length > 0 && unquote(c.words[0]!.raw) !== 'true')),
  );
}

/** Every container path outside the WORKDIR the build touches: copied files, and folders it works in. */
function outsidePaths(image: DockerfileImage, workdir: string, adaptations: string[]): { files: string[]; directories: string[] } {
  const files: string[] = [];
  const directories: string[] = [];
  const outside = (path: string) => path !== workdir && relativeInside(path, workdir) === null;
  for (const step of image.steps) {
    if (step.kind === 'copy') {
      for (const path of step.files.keys()) {
        if (!outside(path)) continue;
        if (isHarness(path)) adaptations.push(`${step.at}: ${path} not placed: the harness owns that folder`);
        else files.push(path);
      }
      directories.push(...step.directories.filter((d) => outside(d) && !isHarness(d)));
    } else if (step.kind === 'unpack' && outside(step.dest)) files.push(step.dest);
    else if (step.kind === 'workdir' && outside(step.path)) files.push(step.path);
  }
  return { files, directories };
}

export function planBuild(image: DockerfileImage, options: { workdir: string }): BuildPlan {
  const { workdir } = options;
  const adaptations: string[] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  const outside = outsidePaths(image, workdir, adaptations);
  const imagePaths = imagePlacement(outside.files, outside.directories);
  const mapping: PathMapping = Object.entries(imagePaths).map(([from, rel]) => [from, posix.join(workdir, rel)] as const);
  for (const [from, rel] of Object.entries(imagePaths)) adaptations.push(`${from} placed at ${posix.join(workdir, rel)} (the sandbox's one writable folder is the work dir); paths to it are rewritten`);
  const relOf = (path: string): string | null => {
    if (path === workdir) return '';
    const inside = relativeInside(path, workdir);
    if (inside !== null) return inside;
    const prefix = Object.keys(imagePaths).find((from) => path === from || path.startsWith(`${from}/`));
    return prefix ? `${imagePaths[prefix]}${path.slice(prefix.length)}` : null;
  };
  const rewritten = new Set<string>();
  const mapText = (what: string) => (text: string) => {
    const out = mapPaths(text, mapping);
    if (out !== text) rewritten.add(what);
    return out;
  };
  const provided = new Set<string>();
  const localModules = new Set<string>();
  const pathDirs = (image.env.PATH ?? '').split(':');
  let bytes = 0;
  const steps: BuildStep[] = [];
  for (const step of image.steps) {
    switch (step.kind) {
      case 'copy': {
        const files: PlacedFile[] = [];
        for (const [path, file] of step.files) {
          const rel = isHarness(path) ? null : relOf(path);
          if (rel === null || rel === '') continue;
          bytes += 'text' in file.content ? Buffer.byteLength(file.content.text) : file.content.bytes.length;
          files.push(placed(rel, file, mapText(rel)));
          if (file.executable && pathDirs.includes(posix.dirname(path))) provided.add(posix.basename(path));
          if (path.endsWith('.py')) localModules.add(posix.basename(path, '.py'));
        }
        if (files.length > 0) steps.push({ kind: 'files', at: step.at, files });
        break;
      }
      case 'unpack': {
        const dest = relOf(step.dest) ?? '';
        const content = step.archive.content;
        const buffer = 'bytes' in content ? content.bytes : Buffer.from(content.text);
        bytes += buffer.length;
        steps.push({ kind: 'unpack', at: step.at, name: step.name, base64: buffer.toString('base64'), dest });
        break;
      }
      case 'workdir': {
        const rel = relOf(step.path);
        if (rel) steps.push({ kind: 'mkdir', at: step.at, path: rel });
        break;
      }
      case 'run': {
        const adapted = adaptTestScript(step.script, { where: step.at.replace(/:\d+$/, ''), testsDirVariable: '/tests', shipped: [], build: true });
        // Lines of a RUN script are numbered from the RUN itself; name the step, not a line.
        const notes = adapted.adaptations.map((a) => a.replace(/^[^:]+:\d+: skipped offline /, `${step.at}: skipped offline `));
        skipped.push(...notes.filter((n) => n.includes('skipped offline')));
        // Docker builds rarely manage services either; whether it matters is for the oracle to show.
        adaptations.push(...adapted.problems.map((p) => p.replace(/^[^:]+:\d+: /, `${step.at}: `)));
        if (!doesAnything(adapted.text)) break;
        const cwd = relOf(step.cwd);
        if (cwd === null) adaptations.push(`${step.at}: RUN in ${step.cwd}, outside the work dir, runs in ${workdir} instead`);
        const env = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, mapPaths(v, mapping)]));
        steps.push({ kind: 'run', at: step.at, script: mapText(`RUN at ${step.at}`)(adapted.text), shell: step.shell, cwd: cwd ?? '', env });
        break;
      }
    }
  }
  if (bytes > MAX_PLACED_BYTES) problems.push(`the image places ${(bytes / 1024 / 1024).toFixed(1)} MiB of files; at most ${MAX_PLACED_BYTES / 1024 / 1024} MiB can travel in a task file`);
  if (rewritten.size > 0) adaptations.push(`paths to image folders outside ${workdir} rewritten in: ${[...rewritten].join(', ')}`);
  return { steps, imagePaths, mapping, env: imageEnv(image.env, { mapping, imagePaths, workdir }), skipped, provided, localModules, adaptations, problems };
}

/** The image's ENV with moved folders mapped, and PATH listing the moved bin folders where the originals were. */
function imageEnv(env: Record<string, string>, options: { mapping: PathMapping; imagePaths: Record<string, string>; workdir: string }): Record<string, string> {
  const { mapping, imagePaths, workdir } = options;
  const out = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, mapPaths(v, mapping)]));
  if (env.PATH !== undefined) {
    const entries = env.PATH.split(':').flatMap((dir) => {
      const moved = Object.keys(imagePaths).some((from) => from.startsWith(`${dir}/`) && !Object.keys(imagePaths).some((f) => dir === f || dir.startsWith(`${f}/`)));
      return moved ? [posix.join(workdir, IMAGE_ROOT, dir), dir] : [mapPaths(dir, mapping)];
    });
    out.PATH = entries.join(':');
  }
  return out;
}
