// The trajectory's steps, virtualised with measured heights: a 100-turn rollout mounts only the
// handful of cards in view, whatever the length of their text.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef } from 'react';
import type { StepView } from './model.ts';
import { StepCard, type Rating } from './StepCard.tsx';

export interface StepListProps {
  views: readonly StepView[];
  focused: number;
  /** Bumped to scroll the focused step into view (keyboard moves, flag links), not on clicks. */
  scrollRequest: number;
  isReasoningOpen: (index: number) => boolean;
  onToggleReasoning: (index: number) => void;
  onFocus: (position: number) => void;
  onRate: (input: { view: StepView; rating: Rating; flag: string; note: string }) => void;
  highlightFor: (view: StepView) => string | undefined;
  ratingBusy: boolean;
  /** The store is read-only: ratings are shown, the controls disabled. */
  ratingLocked?: boolean;
  readOnly?: boolean;
  label?: string;
}

export function StepList(props: StepListProps) {
  const { views, focused, scrollRequest } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: views.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 320,
    overscan: 3,
    getItemKey: (i) => views[i]?.step.callId ?? i,
  });

  useEffect(() => {
    if (focused >= 0 && focused < views.length) virtualizer.scrollToIndex(focused, { align: 'start' });
    // Only explicit requests scroll; `focused` also changes when a card is clicked.
  }, [scrollRequest]);

  return (
    <div ref={scrollRef} className="step-scroll" data-testid="step-scroll" aria-label={props.label ?? 'Steps'} role="region">
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const view = views[item.index]!;
          return (
            <div key={item.key} data-index={item.index} ref={virtualizer.measureElement} className="step-slot" style={{ transform: `translateY(${item.start}px)` }}>
              <StepCard
                view={view}
                position={item.index}
                focused={item.index === focused}
                reasoningOpen={props.isReasoningOpen(view.step.index)}
                onToggleReasoning={props.onToggleReasoning}
                onFocus={props.onFocus}
                onRate={props.onRate}
                highlight={props.highlightFor(view)}
                ratingBusy={props.ratingBusy}
                ratingLocked={props.ratingLocked ?? false}
                readOnly={props.readOnly ?? false}
              />
            </div>
          );
        })}
      </div>
    </div>
  );
}
