import type { ReactNode } from 'react';
import type { Resource } from '../api/hooks.ts';
import { Visible } from './Hidden.tsx';

export function ErrorBox({ error, retry }: { error: Error; retry?: () => void }) {
  return (
    <div className="error-box" role="alert">
      {/* Messages name ids and fields, which hold whatever a task or a model wrote. */}
      <strong>Could not load.</strong> <span>
        <Visible text={error.message} />
      </span>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** Renders a resource's data, or its loading state or error, in one place. */
export function Loaded<T>({ resource, what, children }: { resource: Resource<T>; what: string; children: (data: T) => ReactNode }) {
  if (resource.state === 'failed') return <ErrorBox error={resource.error} retry={resource.reload} />;
  if (resource.data === null) return <Loading what={what} />;
  return <>{children(resource.data)}</>;
}
