import { describe, expect, it } from 'vitest';
import { classifySwipe, dragProgress, dragTransform, exitTransform, keyToAction, MIN_DISTANCE_PX } from './swipe';

const W = 360;
const slow = 1000; // ms: a slow drag, no flick

describe('classifySwipe', () => {
  it('snaps back below the distance threshold', () => {
    expect(classifySwipe({ dx: 50, dy: 0, dtMs: slow, width: W })).toBeNull();
    expect(classifySwipe({ dx: -100, dy: 5, dtMs: slow, width: W })).toBeNull(); // 30% of 360 = 108
    expect(classifySwipe({ dx: 0, dy: 0, dtMs: 0, width: W })).toBeNull();
  });

  it('likes and passes past the threshold', () => {
    expect(classifySwipe({ dx: 110, dy: 20, dtMs: slow, width: W })).toBe('like');
    expect(classifySwipe({ dx: -200, dy: -20, dtMs: slow, width: W })).toBe('pass');
  });

  it('uses a minimum distance on narrow cards', () => {
    expect(classifySwipe({ dx: MIN_DISTANCE_PX - 1, dy: 0, dtMs: slow, width: 100 })).toBeNull();
    expect(classifySwipe({ dx: MIN_DISTANCE_PX, dy: 0, dtMs: slow, width: 100 })).toBe('like');
  });

  it('a fast flick counts even when short', () => {
    expect(classifySwipe({ dx: 40, dy: 0, dtMs: 50, width: W })).toBe('like');
    expect(classifySwipe({ dx: -40, dy: 0, dtMs: 50, width: W })).toBe('pass');
    expect(classifySwipe({ dx: 20, dy: 0, dtMs: 10, width: W })).toBeNull(); // too short even if fast
  });

  it('mostly-upward drags are super likes, downward ones never act', () => {
    expect(classifySwipe({ dx: 10, dy: -120, dtMs: slow, width: W })).toBe('superlike');
    expect(classifySwipe({ dx: 10, dy: -80, dtMs: slow, width: W })).toBeNull();
    expect(classifySwipe({ dx: 5, dy: -70, dtMs: 60, width: W })).toBe('superlike');
    expect(classifySwipe({ dx: 0, dy: 300, dtMs: slow, width: W })).toBeNull();
    // diagonal, more sideways than up: a like
    expect(classifySwipe({ dx: 150, dy: -120, dtMs: slow, width: W })).toBe('like');
  });
});

describe('drag visuals', () => {
  it('progress grows to 1 at the threshold', () => {
    expect(dragProgress(54, 0, W).like).toBeCloseTo(0.5);
    expect(dragProgress(500, 0, W)).toEqual({ like: 1, pass: 0, superlike: 0 });
    expect(dragProgress(-500, 0, W)).toEqual({ like: 0, pass: 1, superlike: 0 });
    expect(dragProgress(0, -55, W).superlike).toBeCloseTo(0.5);
  });

  it('rotation is proportional and clamped', () => {
    expect(dragTransform(140, 0)).toContain('rotate(10.00deg)');
    expect(dragTransform(10000, 0)).toContain('rotate(18.00deg)');
    expect(dragTransform(-10000, 5)).toContain('rotate(-18.00deg)');
  });

  it('cards fly off in the direction of the action', () => {
    expect(exitTransform('like', W)).toMatch(/^translate3d\(\d/);
    expect(exitTransform('pass', W)).toMatch(/^translate3d\(-\d/);
    expect(exitTransform('superlike', W)).toMatch(/^translate3d\(0, -\d/);
  });

  it('maps arrow keys', () => {
    expect(keyToAction('ArrowLeft')).toBe('pass');
    expect(keyToAction('ArrowRight')).toBe('like');
    expect(keyToAction('ArrowUp')).toBe('superlike');
    expect(keyToAction('ArrowDown')).toBeNull();
    expect(keyToAction('a')).toBeNull();
  });
});
