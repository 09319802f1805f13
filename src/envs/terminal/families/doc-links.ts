// Broken documentation links: pages were moved into guides/ and reference/, and the pages that link
// to them still use the old paths. Every page with a broken link needs its own relative paths
// (from docs/ a moved page is guides/x.md, from docs/guides/ it is ../reference/y.md).
import { posix } from 'node:path';
import type { JsonObject, Task } from '../../../core/index.ts';
import { familyRng, familyTask, sample, step } from './common.ts';

const TOPICS = [
  'installation', 'configuration', 'authentication', 'deployment', 'backups', 'monitoring', 'upgrading', 'troubleshooting',
  'api-keys', 'webhooks', 'rate-limits', 'billing', 'permissions', 'sso', 'audit-log', 'exports', 'imports', 'scaling',
];

interface Page {
  slug: string;
  /** Where it lives now, relative to docs/. */
  path: string;
  links: string[];
}

const title = (slug: string) => slug.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');

function body(page: Page, linkTo: (from: string, target: string) => string): string {
  const lines = [`# ${title(page.slug)}`, '', `This page explains ${page.slug.replace(/-/g, ' ')} for operators.`, ''];
  for (const target of page.links) lines.push(`See [${title(target)}](${linkTo(page.path, target)}) for details.`, '');
  lines.push('Last reviewed: January 2026.', '');
  return lines.join('\n');
}

export function docLinksTask(variant: number, count: number): Task {
  const rng = familyRng('doc-links', variant);
  const slugs = sample(rng, TOPICS, count + 6);
  const moved = new Map<string, string>();
  for (const slug of slugs.slice(0, 4)) moved.set(slug, `${rng.pick(['guides', 'reference'])}/${slug}.md`);
  const pages: Page[] = slugs.map((slug) => ({
    slug,
    path: moved.get(slug) ?? `${slug}.md`,
    links: [],
  }));
  const movedSlugs = [...moved.keys()];
  // The first `count` unmoved pages (and one moved page) link to moved pages; a few link only to unmoved ones.
  const linking = pages.filter((p) => !moved.has(p.slug)).slice(0, count - 1);
  linking.push(pages.find((p) => moved.has(p.slug)) as Page);
  for (const p of linking) {
    const targets = sample(rng, movedSlugs.filter((s) => s !== p.slug), rng.int(1, 3));
    p.links.push(...targets);
  }
  const clean = pages.filter((p) => !linking.includes(p) && !moved.has(p.slug));
  for (const p of clean) p.links.push(rng.pick(clean.filter((q) => q !== p)).slug);

  const currentPath = (slug: string) => (pages.find((p) => p.slug === slug) as Page).path;
  // Old links were written when every page sat directly in docs/.
  const oldLink = (from: string, target: string) => posix.relative(posix.dirname(from), moved.has(target) ? `${target}.md` : currentPath(target));
  const newLink = (from: string, target: string) => posix.relative(posix.dirname(from), currentPath(target));

  const files: Record<string, string> = {};
  for (const p of pages) files[`docs/${p.path}`] = body(p, oldLink);
  files['docs/MOVED.txt'] = 'In January we reorganised the docs into guides/ and reference/. Some links were not updated.\n';

  const broken = pages.filter((p) => p.links.some((t) => moved.has(t)));
  const checks: JsonObject[] = broken.map((p) => ({
    check: 'file_equals',
    name: `docs/${p.path} links fixed`,
    path: `docs/${p.path}`,
    content: body(p, newLink),
  }));
  checks.push({
    check: 'command_output_equals',
    name: 'every relative link resolves',
    command:
      "cd docs && find . -name '*.md' | sort | while read -r f; do d=$(dirname \"$f\"); grep -o '([^)]*[.]md)' \"$f\" | tr -d '()' | while read -r l; do [ -f \"$d/$l\" ] || echo \"$f -> $l\"; done; done",
    stdout: '',
  });
  checks.push({ check: 'files_unchanged_except', except: broken.map((p) => `docs/${p.path}`) });

  const steps = [step('run_command', { command: 'find docs -name "*.md" | sort' }), step('run_command', { command: "grep -rn '](' docs" })];
  for (const p of broken) steps.push(step('write_file', { path: `docs/${p.path}`, content: body(p, newLink) }));
  steps.push(step('submit', {}));

  return familyTask({
    id: `doc-links-${count}`,
    instruction:
      'The docs were reorganised (see docs/MOVED.txt) and some relative links in docs/ now point to pages that no longer ' +
      'exist at that path. Fix every broken link so it points, relative to the linking page, to where that page is now. ' +
      'Change nothing else.',
    files,
    checks,
    steps,
    difficulty: 'medium',
    labels: ['docs', 'markdown', 'links', 'per-file-values'],
    family: { name: 'doc-links', params: { variant, count } },
  });
}
