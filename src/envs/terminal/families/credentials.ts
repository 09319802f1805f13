// Credential rotation: one .env per service; the security team's rotation sheet gives new values
// in several hand-made formats, rotates different keys for different services, and says which
// services keep theirs. Every changed file needs its own values.
import type { JsonObject, Rng, Task } from '../../../core/index.ts';
import { familyRng, familyTask, reEscape, sample, SERVICE_NAMES, step } from './common.ts';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function secret(rng: Rng, length: number): string {
  return Array.from({ length }, () => rng.pick([...ALPHABET])).join('');
}

interface Service {
  name: string;
  env: Record<string, string>;
  /** Keys the rotation changes, with their new values (empty: unchanged). */
  rotate: Record<string, string>;
}

function render(env: Record<string, string>): string {
  return `${Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

function sheetLine(rng: Rng, s: Service): string {
  const entries = Object.entries(s.rotate);
  if (entries.length === 0) return rng.pick([`${s.name}: no change (rotated in December).`, `${s.name} — skip this round, keys are fresh.`]);
  const style = rng.int(0, 3);
  if (style === 0) return entries.map(([k, v]) => `${s.name}/${k.toLowerCase()}: ${v}`).join('\n');
  if (style === 1) return `${s.name}: new ${entries.map(([k, v]) => `${k === 'DB_PASSWORD' ? 'database password' : 'API key'} is \`${v}\``).join(' and ')}.`;
  return `[${s.name}] ${entries.map(([k, v]) => `${k} -> ${v}`).join(', ')}`;
}

export function credentialRotationTask(variant: number, count: number, unchanged: number): Task {
  const rng = familyRng('credential-rotation', variant);
  const names = sample(rng, SERVICE_NAMES, count).sort();
  const keep = new Set(sample(rng, names, unchanged));
  const services: Service[] = names.map((name) => {
    const env = {
      SERVICE_NAME: name,
      DB_HOST: `${name}-db.internal`,
      DB_USER: `${name}_app`,
      DB_PASSWORD: secret(rng, 16),
      API_KEY: `sk_live_${secret(rng, 20)}`,
      LOG_LEVEL: rng.pick(['info', 'warn']),
    };
    const rotate: Record<string, string> = {};
    if (!keep.has(name)) {
      const which = rng.int(0, 3);
      if (which !== 1) rotate.DB_PASSWORD = secret(rng, 16);
      if (which !== 0) rotate.API_KEY = `sk_live_${secret(rng, 20)}`;
    }
    return { name, env, rotate };
  });

  const files: Record<string, string> = {};
  for (const s of services) files[`services/${s.name}/.env`] = render(s.env);
  files['security/rotation-2026-02.txt'] = [
    'ROTATION SHEET — February. Apply to services/<name>/.env; keep this sheet, the audit needs it.',
    'Keys not mentioned for a service stay as they are.',
    '',
    ...rng.shuffle(services).map((s) => sheetLine(rng, s)),
    '',
  ].join('\n');
  files['security/README.md'] = 'Only DB_PASSWORD and API_KEY are rotated. Never change DB_USER or hosts during a rotation.\n';

  const changed = services.filter((s) => Object.keys(s.rotate).length > 0);
  const checks: JsonObject[] = changed.map((s) => {
    const final = { ...s.env, ...s.rotate };
    return {
      check: 'file_contains',
      name: `${s.name} rotated`,
      path: `services/${s.name}/.env`,
      regex: Object.entries(final).map(([k, v]) => `^${k}=${reEscape(v)}$`),
    };
  });
  checks.push({ check: 'files_unchanged_except', except: changed.map((s) => `services/${s.name}/.env`) });

  const steps = [step('read_file', { path: 'security/rotation-2026-02.txt' }), step('read_file', { path: 'security/README.md' })];
  for (const s of changed) {
    const path = `services/${s.name}/.env`;
    const rotated = Object.entries(s.rotate);
    if (rotated.length === 1) {
      const [key, value] = rotated[0] as [string, string];
      steps.push(step('run_command', { command: `sed -i 's/^${key}=.*$/${key}=${value}/' ${path}` }));
    } else steps.push(step('write_file', { path, content: render({ ...s.env, ...s.rotate }) }));
  }
  steps.push(step('submit', {}));

  return familyTask({
    id: `credential-rotation-${count}`,
    instruction:
      'Apply this month\'s credential rotation: security/rotation-2026-02.txt lists, in several formats, the new DB_PASSWORD ' +
      'and/or API_KEY per service. Update each services/<name>/.env accordingly. Services the sheet skips keep their values; ' +
      'change nothing else (not even the sheet).',
    files,
    checks,
    steps,
    difficulty: 'hard',
    labels: ['config', 'secrets', 'long-horizon', 'per-file-values'],
    family: { name: 'credential-rotation', params: { variant, count, unchanged } },
  });
}
