// What "opens without freezing" means, measured inside the page: time from navigation to the
// first rows on screen, the longest main-thread task (Long Tasks API) and the longest gap between
// animation frames while the page is being scrolled.
import type { Page } from 'playwright-core';

declare global {
  interface Window {
    __gauntletLongTasks?: { start: number; duration: number }[];
  }
}

/** Call before the first navigation: records every long task (> 50 ms) from page start. */
export async function recordLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__gauntletLongTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__gauntletLongTasks!.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}

/** Long tasks recorded since `sinceMs` (page time). */
export async function longTasksSince(page: Page, sinceMs = 0): Promise<{ count: number; longestMs: number; totalMs: number }> {
  return page.evaluate((since) => {
    const tasks = (window.__gauntletLongTasks ?? []).filter((t) => t.start >= since);
    return { count: tasks.length, longestMs: Math.max(0, ...tasks.map((t) => t.duration)), totalMs: tasks.reduce((s, t) => s + t.duration, 0) };
  }, sinceMs);
}

/**
 * Loads `url` and returns the page time (ms since navigation start) at the first animation frame
 * in which `selector` matches: the time to first render of real content, not of a spinner.
 */
export async function timeToFirstRender(page: Page, url: string, selector: string): Promise<number> {
  await page.goto(url, { waitUntil: 'commit' });
  const handle = await page.waitForFunction((sel) => (document.querySelector(sel) ? performance.now() : null), selector, { polling: 'raf', timeout: 30_000 });
  return (await handle.jsonValue()) as number;
}

export interface ScrollFigures {
  frames: number;
  durationMs: number;
  /** Longest gap between two animation frames while scrolling: what a reader feels as a freeze. */
  maxFrameGapMs: number;
  p95FrameGapMs: number;
  /** Most rows/cards mounted at once (virtualisation keeps this near the number in view). */
  maxMounted: number;
  finalScrollTop: number;
}

export interface ScrollOptions {
  scroller: string;
  mounted: string;
  stepPx: number;
  maxMs: number;
  /** Keep going at the bottom until this attribute no longer has this value (all pages fetched). */
  doneWhen?: { selector: string; attribute: string; notEquals: string };
}

// Runs in the page. Kept as source text: the test's TypeScript is compiled with names kept
// (esbuild's __name helper), which does not exist in the page.
const SCROLL_SOURCE = `(options) => new Promise((resolve, reject) => {
  const el = document.querySelector(options.scroller);
  if (!(el instanceof HTMLElement)) return reject(new Error('no scrolling element ' + options.scroller));
  const want = options.doneWhen;
  const gaps = [];
  let maxMounted = 0;
  let start = 0;
  let last = 0;
  function frame(now) {
    gaps.push(now - last);
    last = now;
    maxMounted = Math.max(maxMounted, document.querySelectorAll(options.mounted).length);
    el.scrollTop += options.stepPx;
    const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
    const value = want ? (document.querySelector(want.selector) || { getAttribute: () => null }).getAttribute(want.attribute) : null;
    const done = !want || (value !== null && value !== want.notEquals);
    if ((atBottom && done) || now - start > options.maxMs) {
      const sorted = gaps.slice().sort((a, b) => a - b);
      resolve({
        frames: gaps.length,
        durationMs: now - start,
        maxFrameGapMs: sorted[sorted.length - 1] || 0,
        p95FrameGapMs: sorted[Math.floor(sorted.length * 0.95)] || 0,
        maxMounted,
        finalScrollTop: el.scrollTop,
      });
      return;
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame((now) => { start = now; last = now; requestAnimationFrame(frame); });
})`;

/**
 * Scrolls `scroller` down by `stepPx` per animation frame until it is at the bottom (and
 * `doneWhen` holds) or `maxMs` passes, counting the elements matching `mounted` each frame.
 */
export async function scrollThrough(page: Page, options: ScrollOptions): Promise<ScrollFigures> {
  return page.evaluate(`(${SCROLL_SOURCE})(${JSON.stringify(options)})`) as Promise<ScrollFigures>;
}
