// Port assignments: every service config has `port = TODO`; the real port for each is buried in a
// hand-written handover document, phrased differently per service and next to stale old ports.
// A sed over all files cannot do it: each file needs its own value, read from prose.
import type { JsonObject, Task } from '../../../core/index.ts';
import { capitalise, familyRng, familyTask, sample, SERVICE_NAMES, step } from './common.ts';

type Phrase = (name: string, port: number, old: number) => string;

const PHRASES: Phrase[] = [
  (n, p, o) => `${capitalise(n)} moved from ${o} to ${p} during the January migration.`,
  (n, p, o) => `For ${n}, use ${p}; the old ${o} is still open in the firewall but nothing listens there.`,
  (n, p, o) => `${capitalise(n)}: ${p} (was ${o} until last sprint).`,
  (n, p, o) => `We gave ${n} port ${p}. Ignore the ${o} you may see in older runbooks.`,
  (n, p) => `${capitalise(n)} keeps its historical port, ${p}.`,
  (n, p, o) => `The ${n} team asked for ${p} because ${o} collides with the metrics sidecar.`,
  (n, p, o) => `Heads-up on ${n}: anything still pointing at ${o} is wrong, it's ${p} now.`,
  (n, p) => `${capitalise(n)} listens on ${p} (confirmed with the on-call engineer).`,
];

function config(name: string, port: string, replicas: number, level: string): string {
  return [`# ${name} service`, `name = ${name}`, `port = ${port}`, `replicas = ${replicas}`, `log_level = ${level}`, 'health_path = /healthz', ''].join('\n');
}

export function portAssignmentTask(variant: number, count: number): Task {
  const rng = familyRng('port-assignments', variant);
  const names = sample(rng, SERVICE_NAMES, count + 2);
  const services = names.slice(0, count).sort();
  const decommissioned = names.slice(count);
  const used = new Set<number>();
  const freshPort = () => {
    let p = rng.int(9100, 9400);
    while (used.has(p)) p = rng.int(9100, 9400);
    used.add(p);
    return p;
  };
  const plan = services.map((name) => ({
    name,
    port: freshPort(),
    old: freshPort(),
    replicas: rng.int(1, 6),
    level: rng.pick(['info', 'warn', 'debug']),
  }));

  const files: Record<string, string> = {};
  for (const s of plan) files[`services/${s.name}/service.conf`] = config(s.name, 'TODO', s.replicas, s.level);
  const paragraphs = rng.shuffle(plan).map((s) => `- ${rng.pick(PHRASES)(s.name, s.port, s.old)}`);
  for (const name of decommissioned) paragraphs.splice(rng.int(0, paragraphs.length), 0, `- ${capitalise(name)} was decommissioned; its port ${freshPort()} is free again.`);
  files['docs/handover.md'] = [
    '# Platform handover (Feb)',
    '',
    'Notes from the handover call. Ports below are the ones to use from now on unless stated otherwise.',
    '',
    ...paragraphs,
    '',
    'Anything not listed here did not change.',
    '',
  ].join('\n');
  files['docs/old-runbook.md'] = ['# Runbook (2024, outdated)', '', ...plan.map((s) => `${s.name}: ${s.old}`), ''].join('\n');
  files['services/README.md'] = 'Each service reads services/<name>/service.conf at start-up. `port = TODO` blocks the deploy.\n';

  const checks: JsonObject[] = plan.map((s) => ({
    check: 'file_contains',
    name: `${s.name} port`,
    path: `services/${s.name}/service.conf`,
    regex: [`^port\\s*=\\s*${s.port}\\s*$`],
    noneRegex: ['TODO', `^port\\s*=(?!\\s*${s.port}\\s*$)`],
    all: [`# ${s.name} service`, `name = ${s.name}`, `replicas = ${s.replicas}`, `log_level = ${s.level}`, 'health_path = /healthz'],
  }));
  checks.push({ check: 'files_unchanged_except', except: ['services/*/service.conf'] });

  const steps = [step('read_file', { path: 'docs/handover.md' })];
  plan.forEach((s, i) => {
    const path = `services/${s.name}/service.conf`;
    steps.push(
      i % 2 === 0
        ? step('write_file', { path, content: config(s.name, String(s.port), s.replicas, s.level) })
        : step('run_command', { command: `sed -i 's/^port = TODO$/port = ${s.port}/' ${path}` }),
    );
  });
  steps.push(step('submit', {}));

  return familyTask({
    id: `port-assignments-${count}`,
    instruction:
      `The deploy is blocked: each of the ${count} configs services/<name>/service.conf has \`port = TODO\`. ` +
      'Set every one to the port that docs/handover.md says that service uses now (not an old port). ' +
      'Change only the port lines; leave every other file alone.',
    files,
    noise: { dir: 'docs/archive', count: 3 },
    checks,
    steps,
    difficulty: 'hard',
    labels: ['config', 'long-horizon', 'read-prose', 'per-file-values'],
    family: { name: 'port-assignments', params: { variant, count } },
  });
}
