// The trajectory verdict (accept / reject / unsafe) with a reason and the queue's typed rubric.
import { READ_ONLY_HINT } from '../../app/store-access.ts';
import type { Rubric, RubricField, RubricValue, Verdict } from '../../api/schemas.ts';

export interface VerdictDraft {
  reason: string;
  /** Raw field text as typed; converted to each field's type when the verdict is sent. */
  rubric: Record<string, string>;
}

export const emptyDraft = (): VerdictDraft => ({ reason: '', rubric: {} });

/** The rubric answers typed per field, or the first field that is missing or out of range. */
export function rubricValues(rubric: Rubric | null, draft: VerdictDraft): { ok: true; values: Record<string, RubricValue> } | { ok: false; field: string; message: string } {
  const values: Record<string, RubricValue> = {};
  for (const field of rubric?.fields ?? []) {
    const raw = (draft.rubric[field.name] ?? '').trim();
    if (raw === '') {
      if (field.required) return { ok: false, field: field.name, message: `“${field.name}” is required` };
      continue;
    }
    const value = convert(field, raw);
    if (typeof value === 'object') return { ok: false, field: field.name, message: value.error };
    values[field.name] = value;
  }
  return { ok: true, values };
}

function convert(field: RubricField, raw: string): RubricValue | { error: string } {
  switch (field.type) {
    case 'numeric': {
      const n = Number(raw);
      if (!Number.isFinite(n)) return { error: `“${field.name}” must be a number` };
      if (n < field.min || n > field.max) return { error: `“${field.name}” must be from ${field.min} to ${field.max}` };
      return n;
    }
    case 'boolean':
      return raw === 'true';
    case 'categorical':
      return field.options.includes(raw) ? raw : { error: `“${field.name}” must be one of ${field.options.join(', ')}` };
    case 'text':
      return raw;
  }
}

export const VERDICTS: readonly { verdict: Verdict; key: string; label: string }[] = [
  { verdict: 'accept', key: '1', label: 'Accept' },
  { verdict: 'reject', key: '2', label: 'Reject' },
  { verdict: 'unsafe', key: '3', label: 'Unsafe' },
];

export interface VerdictFormProps {
  rubric: Rubric | null;
  draft: VerdictDraft;
  setDraft: (draft: VerdictDraft) => void;
  onVerdict: (verdict: Verdict) => void;
  busy: boolean;
  /** The store is read-only: the form is shown, disabled, saying why. */
  locked?: boolean;
  error: string | null;
}

export function VerdictForm({ rubric, draft, setDraft, onVerdict, busy, locked = false, error }: VerdictFormProps) {
  const setField = (name: string, value: string) => setDraft({ ...draft, rubric: { ...draft.rubric, [name]: value } });
  return (
    <form className="verdict-form" aria-labelledby="verdict-title" onSubmit={(e) => e.preventDefault()}>
      <h2 id="verdict-title">Verdict</h2>
      {locked && (
        <p className="locked-hint" data-testid="verdict-locked">
          {READ_ONLY_HINT}
        </p>
      )}
      <fieldset className="plain" disabled={locked}>
        {rubric?.fields.map((field) => (
          <RubricInput key={field.name} field={field} value={draft.rubric[field.name] ?? ''} onChange={(v) => setField(field.name, v)} />
        ))}
        <label className="stacked">
          <span>Reason</span>
          <textarea rows={3} value={draft.reason} onChange={(e) => setDraft({ ...draft, reason: e.target.value })} placeholder="Why (kept with the label)" />
        </label>
        <div className="verdict-buttons">
          {VERDICTS.map(({ verdict, key, label }) => (
            <button key={verdict} type="button" className={`verdict-${verdict}`} disabled={busy || locked} onClick={() => onVerdict(verdict)} aria-keyshortcuts={locked ? undefined : key}>
              {label} <kbd>{key}</kbd>
            </button>
          ))}
        </div>
      </fieldset>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function RubricInput({ field, value, onChange }: { field: RubricField; value: string; onChange: (value: string) => void }) {
  const id = `rubric-${field.name}`;
  const label = `${field.name}${field.required ? ' *' : ''}`;
  let input;
  switch (field.type) {
    case 'categorical':
      input = (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">—</option>
          {field.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
    case 'boolean':
      input = (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">—</option>
          <option value="true">yes</option>
          <option value="false">no</option>
        </select>
      );
      break;
    case 'numeric':
      input = <input id={id} type="number" value={value} min={field.min} max={field.max} step={field.step ?? 'any'} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'text':
      input = <input id={id} type="text" value={value} onChange={(e) => onChange(e.target.value)} />;
      break;
  }
  return (
    <label className="stacked" htmlFor={id}>
      <span>
        {label}
        {field.type === 'numeric' ? ` (${field.min}–${field.max})` : ''}
      </span>
      {input}
    </label>
  );
}
