import { TrajectoryReview } from './trajectory/TrajectoryReview.tsx';

export function TrajectoryPage({ rolloutId, query }: { rolloutId: string; query: URLSearchParams }) {
  const step = Number(query.get('step') ?? '1');
  return (
    <section aria-label="Trajectory">
      <TrajectoryReview key={rolloutId} rolloutId={rolloutId} initialStep={Number.isInteger(step) && step > 0 ? step - 1 : 0} />
    </section>
  );
}
