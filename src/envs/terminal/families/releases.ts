// Monorepo release: release notes describe each package's changes in prose; the agent decides the
// semver bump per package (breaking → major, feature → minor, fix → patch, docs-only → none) and
// edits each package.json, keeping its other fields.
import type { JsonObject, Rng, Task } from '../../../core/index.ts';
import { familyRng, familyTask, sample, step } from './common.ts';

const PACKAGES = ['core', 'cli', 'http', 'db', 'auth', 'ui', 'charts', 'forms', 'i18n', 'logger', 'queue', 'cache', 'config', 'testing', 'metrics', 'mailer'];

type Bump = 'major' | 'minor' | 'patch' | 'none';

const NOTES: Record<Bump, ((pkg: string) => string)[]> = {
  major: [
    (p) => `@acme/${p}: removed the deprecated \`legacyInit()\` export — callers must migrate.`,
    (p) => `@acme/${p}: the config format changed incompatibly (keys are now camelCase).`,
  ],
  minor: [
    (p) => `@acme/${p}: new \`retry\` option, fully backwards compatible.`,
    (p) => `@acme/${p}: adds a streaming API next to the existing one.`,
  ],
  patch: [
    (p) => `@acme/${p}: fixed a crash when the input is empty.`,
    (p) => `@acme/${p}: corrected an off-by-one in pagination; no API change.`,
  ],
  none: [(p) => `@acme/${p}: README typos only, no release needed.`, (p) => `@acme/${p}: internal test refactor, not released.`],
};

function bump(version: string, kind: Bump): string {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  if (kind === 'major') return `${major + 1}.0.0`;
  if (kind === 'minor') return `${major}.${minor + 1}.0`;
  if (kind === 'patch') return `${major}.${minor}.${patch + 1}`;
  return version;
}

interface Pkg {
  name: string;
  version: string;
  description: string;
  kind: Bump;
  deps: Record<string, string>;
}

function manifest(p: Pkg, version: string): string {
  return `${JSON.stringify({ name: `@acme/${p.name}`, version, description: p.description, main: 'dist/index.js', dependencies: p.deps }, null, 2)}\n`;
}

function version(rng: Rng): string {
  return `${rng.int(0, 4)}.${rng.int(0, 12)}.${rng.int(0, 20)}`;
}

export function releaseBumpTask(variant: number, count: number): Task {
  const rng = familyRng('release-bumps', variant);
  const names = sample(rng, PACKAGES, count).sort();
  const kinds: Bump[] = names.map((_, i) => (['major', 'minor', 'patch', 'patch', 'minor', 'none'] as const)[(i + variant) % 6] as Bump);
  const pkgs: Pkg[] = names.map((name, i) => ({
    name,
    version: version(rng),
    description: `Acme ${name} package`,
    kind: kinds[i] as Bump,
    deps: { tslib: `^2.${rng.int(0, 7)}.0` },
  }));

  const files: Record<string, string> = {};
  for (const p of pkgs) files[`packages/${p.name}/package.json`] = manifest(p, p.version);
  files['RELEASE_NOTES.md'] = ['# Release notes (draft for this release)', '', ...rng.shuffle(pkgs).map((p) => `- ${rng.pick(NOTES[p.kind])(p.name)}`), ''].join('\n');
  files['CONTRIBUTING.md'] = [
    '## Versioning',
    'We follow semver: a breaking change bumps major (x.0.0), a new backwards-compatible feature bumps minor (x.y.0),',
    'a bug fix bumps patch. Packages without a release keep their version. Only edit the "version" field.',
    '',
  ].join('\n');

  const released = pkgs.filter((p) => p.kind !== 'none');
  const checks: JsonObject[] = pkgs.map((p) => ({
    check: 'json_file_matches',
    name: `@acme/${p.name} ${p.kind}`,
    path: `packages/${p.name}/package.json`,
    values: { name: `@acme/${p.name}`, version: bump(p.version, p.kind), description: p.description, main: 'dist/index.js', dependencies: p.deps },
  }));
  checks.push({ check: 'files_unchanged_except', except: released.map((p) => `packages/${p.name}/package.json`) });

  const steps = [step('read_file', { path: 'RELEASE_NOTES.md' }), step('read_file', { path: 'CONTRIBUTING.md' })];
  for (const p of released) {
    const path = `packages/${p.name}/package.json`;
    steps.push(step('run_command', { command: `grep '"version"' ${path}` }));
    steps.push(step('write_file', { path, content: manifest(p, bump(p.version, p.kind)) }));
  }
  steps.push(step('submit', {}));

  return familyTask({
    id: `release-bumps-${count}`,
    instruction:
      'Prepare the release: for every package in packages/, bump "version" in its package.json according to RELEASE_NOTES.md ' +
      'and the semver rules in CONTRIBUTING.md. Packages with no release keep their version; change nothing else.',
    files,
    checks,
    steps,
    difficulty: 'medium',
    labels: ['release', 'semver', 'json', 'per-file-values'],
    family: { name: 'release-bumps', params: { variant, count } },
  });
}
