// Filters live in the URL query, so a filtered view survives reload and can be shared. Text
// fields apply on Enter or "Apply"; selects apply at once.
import { useEffect, useState, type FormEvent } from 'react';
import { updateQuery } from '../app/router.ts';

export type FilterField =
  | { name: string; label: string; type: 'text'; placeholder?: string }
  | { name: string; label: string; type: 'number'; step?: number; min?: number; max?: number }
  | { name: string; label: string; type: 'select'; options: readonly { value: string; label: string }[] };

export function FilterBar({ fields, query, label }: { fields: readonly FilterField[]; query: URLSearchParams; label: string }) {
  const fromQuery = () => Object.fromEntries(fields.map((f) => [f.name, query.get(f.name) ?? '']));
  const [values, setValues] = useState<Record<string, string>>(fromQuery);
  const serialized = fields.map((f) => query.get(f.name) ?? '').join('\u0000');
  // Back/forward changes the query under us: follow it.
  useEffect(() => setValues(fromQuery()), [serialized]);

  const apply = (next: Record<string, string>) => updateQuery(Object.fromEntries(fields.map((f) => [f.name, next[f.name]?.trim() || null])));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    apply(values);
  };
  const active = fields.some((f) => query.get(f.name));

  return (
    <form className="filters" role="search" aria-label={label} onSubmit={onSubmit}>
      {fields.map((field) => {
        const id = `filter-${field.name}`;
        const value = values[field.name] ?? '';
        const set = (v: string) => setValues((old) => ({ ...old, [field.name]: v }));
        return (
          <label key={field.name} htmlFor={id}>
            <span>{field.label}</span>
            {field.type === 'select' ? (
              <select
                id={id}
                value={value}
                onChange={(e) => {
                  const next = { ...values, [field.name]: e.target.value };
                  setValues(next);
                  apply(next);
                }}
              >
                <option value="">any</option>
                {field.options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                type={field.type}
                value={value}
                placeholder={field.type === 'text' ? field.placeholder : undefined}
                step={field.type === 'number' ? field.step : undefined}
                min={field.type === 'number' ? field.min : undefined}
                max={field.type === 'number' ? field.max : undefined}
                onChange={(e) => set(e.target.value)}
              />
            )}
          </label>
        );
      })}
      <button type="submit">Apply</button>
      {active && (
        <button
          type="button"
          onClick={() => {
            const cleared = Object.fromEntries(fields.map((f) => [f.name, '']));
            setValues(cleared);
            apply(cleared);
          }}
        >
          Clear
        </button>
      )}
    </form>
  );
}
