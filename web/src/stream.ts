// Reads one reply stream to its end, resuming a dropped connection from the last event id
// (GET …/messages/{mid}/stream with Last-Event-ID). Independent of the UI; unit-tested.
import { ApiError, readSse, type Id } from './api';
import type { SseEvent } from './sse';

export interface ResumableStreamOptions {
  /** Opens the original request (POST …/messages, …/regenerate, …/continue). */
  open: (signal: AbortSignal) => Promise<Response>;
  /** Re-opens the stream of reply `replyId` after event `lastEventId` (null: from the start). */
  resume: (replyId: Id, lastEventId: string | null, signal: AbortSignal) => Promise<Response>;
  onEvent: (ev: SseEvent) => void;
  signal: AbortSignal;
  /** True once the user pressed stop: a closed stream is then not resumed. */
  stopped?: () => boolean;
  onReconnecting?: (reconnecting: boolean) => void;
  maxResumes?: number;
  backoffMs?: number;
}

export async function runResumableStream(o: ResumableStreamOptions): Promise<{ resumes: number }> {
  const maxResumes = o.maxResumes ?? 5;
  const backoffMs = o.backoffMs ?? 250;
  let replyId: Id | null = null;
  let lastId: string | null = null;
  const onEvent = (ev: SseEvent) => {
    if (ev.event === 'reply') {
      try {
        const d = JSON.parse(ev.data);
        if (d && (typeof d.id === 'number' || typeof d.id === 'string')) replyId = d.id;
      } catch {
        /* ignore */
      }
    }
    o.onEvent(ev);
  };
  let res = await o.open(o.signal);
  for (let attempt = 0; ; attempt++) {
    const r = await readSse(res, onEvent, lastId);
    lastId = r.lastEventId;
    if (r.finished || o.stopped?.()) return { resumes: attempt };
    if (replyId === null || attempt >= maxResumes) throw new ApiError(0, 'stream_dropped', 'The connection was lost');
    o.onReconnecting?.(true);
    await new Promise((ok) => setTimeout(ok, backoffMs * (attempt + 1)));
    if (o.signal.aborted) throw new DOMException('aborted', 'AbortError');
    try {
      res = await o.resume(replyId, lastId, o.signal);
    } finally {
      o.onReconnecting?.(false);
    }
  }
}
