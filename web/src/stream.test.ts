import { describe, expect, it, vi } from 'vitest';
import { runResumableStream } from './stream';
import type { SseEvent } from './sse';

function sse(chunks: string[], drop = false): Response {
  const enc = new TextEncoder();
  let i = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(c) {
        if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]));
        else if (drop) c.error(new TypeError('network error'));
        else c.close();
      },
    }),
  );
}
const tok = (id: number, text: string) => `id: ${id}\nevent: token\ndata: ${JSON.stringify({ text })}\n\n`;

describe('runResumableStream', () => {
  it('resumes a dropped stream from the last event id and gets every token once', async () => {
    const resume = vi.fn(async (mid: unknown, last: string | null) => {
      expect(mid).toBe(42);
      expect(last).toBe('2');
      return sse([tok(3, ' there'), tok(4, '!'), 'event: done\ndata: {"message_id":42}\n\n']);
    });
    const events: SseEvent[] = [];
    const onReconnecting = vi.fn();
    const r = await runResumableStream({
      open: async () => sse(['event: message\ndata: {"id":41}\n\nevent: reply\ndata: {"id":42}\n\n', tok(1, 'Hi'), tok(2, ','), 'id: 3\nevent: tok'], true),
      resume,
      onEvent: (e) => events.push(e),
      signal: new AbortController().signal,
      onReconnecting,
      backoffMs: 1,
    });
    expect(r.resumes).toBe(1);
    expect(resume).toHaveBeenCalledTimes(1);
    const text = events.filter((e) => e.event === 'token').map((e) => JSON.parse(e.data).text).join('');
    expect(text).toBe('Hi, there!');
    expect(events[events.length - 1].event).toBe('done');
    expect(onReconnecting.mock.calls).toEqual([[true], [false]]);
  });

  it('does not resume after stop, and gives up after maxResumes', async () => {
    const resume = vi.fn(async () => sse([tok(9, 'x')]));
    await runResumableStream({
      open: async () => sse(['event: reply\ndata: {"id":1}\n\n', tok(1, 'a')]),
      resume,
      onEvent: () => {},
      signal: new AbortController().signal,
      stopped: () => true,
      backoffMs: 1,
    });
    expect(resume).not.toHaveBeenCalled();
    await expect(
      runResumableStream({
        open: async () => sse(['event: reply\ndata: {"id":1}\n\n', tok(1, 'a')]),
        resume,
        onEvent: () => {},
        signal: new AbortController().signal,
        maxResumes: 2,
        backoffMs: 1,
      }),
    ).rejects.toMatchObject({ code: 'stream_dropped' });
    expect(resume).toHaveBeenCalledTimes(2);
  });

  it('fails without resuming when the stream drops before the reply id is known', async () => {
    const resume = vi.fn();
    await expect(
      runResumableStream({ open: async () => sse([': hi\n\n'], true), resume, onEvent: () => {}, signal: new AbortController().signal, backoffMs: 1 }),
    ).rejects.toMatchObject({ code: 'stream_dropped' });
    expect(resume).not.toHaveBeenCalled();
  });

  it('an error event ends the stream without resuming', async () => {
    const resume = vi.fn();
    const seen: string[] = [];
    await runResumableStream({
      open: async () => sse(['event: reply\ndata: {"id":5}\n\n', 'event: error\ndata: {"code":"engine_failed","message":"boom"}\n\n']),
      resume,
      onEvent: (e) => seen.push(e.event),
      signal: new AbortController().signal,
    });
    expect(seen).toEqual(['reply', 'error']);
    expect(resume).not.toHaveBeenCalled();
  });
});
