// Swipe gesture maths for the card deck: which action a drag means, and how the card
// looks while dragged. Pure functions, unit-tested.

export type SwipeAction = 'pass' | 'like' | 'superlike';

export interface DragSample {
  dx: number; // px, + right
  dy: number; // px, + down
  dtMs: number; // duration of the drag
  width: number; // card width in px
}

export const MIN_DISTANCE_PX = 80;
export const DISTANCE_FRACTION = 0.3; // of the card width
export const FLICK_SPEED = 0.6; // px per ms
export const FLICK_MIN_PX = 30;
export const UP_DISTANCE_PX = 110;

/** The action a released drag means, or null to snap the card back. */
export function classifySwipe({ dx, dy, dtMs, width }: DragSample): SwipeAction | null {
  const adx = Math.abs(dx);
  const ady = Math.abs(dy);
  const speed = dtMs > 0 ? Math.hypot(dx, dy) / dtMs : 0;
  const flick = speed >= FLICK_SPEED;
  if (dy < 0 && ady > adx * 1.2) {
    if (-dy >= UP_DISTANCE_PX || (flick && -dy >= FLICK_MIN_PX * 2)) return 'superlike';
    return null;
  }
  const threshold = Math.max(MIN_DISTANCE_PX, width * DISTANCE_FRACTION);
  if (adx >= threshold || (flick && adx >= FLICK_MIN_PX)) return dx > 0 ? 'like' : 'pass';
  return null;
}

/** 0..1: how close the drag is to triggering each action (for the stamp overlays). */
export function dragProgress(dx: number, dy: number, width: number): { like: number; pass: number; superlike: number } {
  const threshold = Math.max(MIN_DISTANCE_PX, width * DISTANCE_FRACTION);
  const clamp = (v: number) => Math.max(0, Math.min(1, v));
  const up = dy < 0 && Math.abs(dy) > Math.abs(dx) * 1.2;
  return {
    like: up ? 0 : clamp(dx / threshold),
    pass: up ? 0 : clamp(-dx / threshold),
    superlike: up ? clamp(-dy / UP_DISTANCE_PX) : 0,
  };
}

/** CSS transform for a card dragged by (dx, dy). */
export function dragTransform(dx: number, dy: number): string {
  const rot = Math.max(-18, Math.min(18, dx / 14));
  return `translate3d(${dx.toFixed(1)}px, ${dy.toFixed(1)}px, 0) rotate(${rot.toFixed(2)}deg)`;
}

/** Where the card flies to when an action is taken. */
export function exitTransform(action: SwipeAction, width: number): string {
  const far = Math.max(width * 1.6, 600);
  if (action === 'superlike') return `translate3d(0, ${-far * 1.4}px, 0) rotate(0deg)`;
  const dir = action === 'like' ? 1 : -1;
  return `translate3d(${dir * far}px, 40px, 0) rotate(${dir * 24}deg)`;
}

export function keyToAction(key: string): SwipeAction | null {
  if (key === 'ArrowLeft') return 'pass';
  if (key === 'ArrowRight') return 'like';
  if (key === 'ArrowUp') return 'superlike';
  return null;
}
