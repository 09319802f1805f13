// Walks a review queue: takes (reserves) the next item for this reviewer, shows it with the
// queue's rubric, and moves on by itself once the verdict is stored. Over a read-only store
// nothing can be reserved or labelled, so the queue's items are listed to read instead.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi, useResource } from '../api/hooks.ts';
import type { Queue, QueueItem } from '../api/schemas.ts';
import { useHotkeys } from '../app/hotkeys.ts';
import { href } from '../app/router.ts';
import { useReviewer } from '../app/session.ts';
import { useStoreAccess } from '../app/store-access.ts';
import { Visible } from '../components/Hidden.tsx';
import { ErrorBox, Loaded, Loading } from '../components/States.tsx';
import { TrajectoryReview } from './trajectory/TrajectoryReview.tsx';

export function QueueReviewPage({ queueId }: { queueId: string }) {
  const api = useApi();
  const { readOnly } = useStoreAccess();
  const queue = useResource(`queue:${queueId}`, (signal) => api.queue(queueId, signal));
  return (
    <section aria-labelledby="queue-title">
      <p className="crumbs">
        <a href={href(['queues'])}>Queues</a> / <Visible text={queueId} />
      </p>
      <Loaded resource={queue} what="the queue">
        {(detail) => (readOnly ? <ItemsToRead queue={detail.queue} items={detail.items} /> : <Walker queue={detail.queue} />)}
      </Loaded>
    </section>
  );
}

function ItemsToRead({ queue, items }: { queue: Queue; items: readonly QueueItem[] }) {
  return (
    <>
      <h1 id="queue-title">
        Queue <Visible text={queue.id} /> <span className="muted">({queue.strategy.replaceAll('_', ' ')})</span>
      </h1>
      <p className="locked-hint" data-testid="queue-locked">
        The store is read-only: items cannot be taken or labelled here. Open one to read it.
      </p>
      <table className="data-table" aria-label="Queue items">
        <thead>
          <tr>
            <th className="num">#</th>
            <th>Rollout</th>
            <th>Task</th>
            <th>Why this one</th>
            <th>Reviewed by</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id}>
              <td className="num">{item.position + 1}</td>
              <td>
                <a href={href(['rollouts', item.rolloutId])}>
                  <Visible text={item.rolloutId} />
                </a>
              </td>
              <td>
                <Visible text={item.taskId} />
              </td>
              <td>
                <Visible text={item.reason} />
              </td>
              <td>{item.doneBy.length ? <Visible text={item.doneBy.join(', ')} /> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

type Holding =
  | { state: 'idle' }
  | { state: 'taking' }
  | { state: 'holding'; item: QueueItem }
  | { state: 'paused' }
  | { state: 'done' }
  | { state: 'failed'; error: Error };

function Walker({ queue }: { queue: Queue }) {
  const api = useApi();
  const reviewer = useReviewer();
  const [holding, setHolding] = useState<Holding>({ state: 'idle' });
  const [progress, setProgress] = useState<Queue['progress']>(queue.progress);
  const [reviewed, setReviewed] = useState(0);
  const held = useRef<QueueItem | null>(null);

  const take = useCallback(async () => {
    if (!reviewer.name) return;
    setHolding({ state: 'taking' });
    try {
      const { item, progress: now } = await api.nextQueueItem(queue.id, reviewer.name);
      held.current = item;
      setProgress(now);
      setHolding(item ? { state: 'holding', item } : { state: 'done' });
    } catch (e) {
      setHolding({ state: 'failed', error: e instanceof Error ? e : new Error(String(e)) });
    }
  }, [api, queue.id, reviewer.name]);

  const release = useCallback(async () => {
    const item = held.current;
    held.current = null;
    if (item) await api.releaseQueueItem(queue.id, item.id, reviewer.name);
  }, [api, queue.id, reviewer.name]);

  useEffect(() => {
    if (reviewer.name && holding.state === 'idle') void take();
  }, [reviewer.name, holding.state, take]);

  // Leaving the page hands the held item back rather than letting it wait for its reservation to
  // expire; if that fails the reservation still expires, so there is nothing to report.
  const name = useRef(reviewer.name);
  name.current = reviewer.name;
  useEffect(
    () => () => {
      const item = held.current;
      if (item) void api.releaseQueueItem(queue.id, item.id, name.current).catch(() => undefined);
    },
    [api, queue.id],
  );

  // The server hands a reviewer the first item they can take, so a handed-back item may come
  // straight back: handing back pauses the walk instead of pretending to skip.
  const handBack = async () => {
    try {
      await release();
      setHolding({ state: 'paused' });
    } catch (e) {
      setHolding({ state: 'failed', error: e instanceof Error ? e : new Error(String(e)) });
    }
  };
  const advance = () => {
    held.current = null;
    setReviewed((n) => n + 1);
    void take();
  };

  useHotkeys([{ keys: ['n'], description: 'Hand this item back (for someone else) and pause', run: () => void handBack() }], holding.state === 'holding');

  return (
    <>
      <h1 id="queue-title">
        Queue <Visible text={queue.id} /> <span className="muted">({queue.strategy.replaceAll('_', ' ')})</span>
      </h1>
      <p className="muted" aria-live="polite" data-testid="queue-progress">
        {progress.done} of {progress.items} items fully reviewed · {progress.labelsNeeded} verdicts still needed · {reviewed} by you this session
        {queue.note ? (
          <>
            {' · '}
            <Visible text={queue.note} />
          </>
        ) : (
          ''
        )}
      </p>
      {!reviewer.name && <p className="error-box">Enter your reviewer name (top right) to take items from this queue.</p>}
      {holding.state === 'taking' && <Loading what="the next item" />}
      {holding.state === 'failed' && <ErrorBox error={holding.error} retry={() => void take()} />}
      {holding.state === 'paused' && (
        <p className="notice" role="status">
          Item handed back.{' '}
          <button type="button" onClick={() => void take()}>
            Take the next item
          </button>
        </p>
      )}
      {holding.state === 'done' && (
        <p className="notice" role="status" data-testid="queue-done">
          Nothing left for you in this queue. <a href={href(['stats'], { queueId: queue.id })}>See agreement</a>.
        </p>
      )}
      {holding.state === 'holding' && (
        <>
          <p>
            <span className="muted">
              Why this one: <Visible text={holding.item.reason} />
            </span>{' '}
            <button type="button" onClick={() => void handBack()}>
              Hand back <kbd>n</kbd>
            </button>
          </p>
          <TrajectoryReview key={holding.item.id} rolloutId={holding.item.rolloutId} rubric={queue.rubric ?? null} queueItemId={holding.item.id} onVerdictSaved={advance} />
        </>
      )}
    </>
  );
}
