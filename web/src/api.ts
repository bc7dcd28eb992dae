// Tokki HTTP API client: JSON requests with typed errors, and SSE streams read with
// fetch + ReadableStream (EventSource cannot POST). Start at `api()` and `streamSse()`.
import { SseParser, type SseEvent } from './sse';

export type Id = number | string;

export interface User {
  id: Id;
  username: string;
  display_name: string;
  persona: string;
}

export interface Character {
  id: Id;
  owner_id: Id;
  is_owner: boolean;
  name: string;
  nickname: string;
  tagline: string;
  description: string;
  personality: string;
  scenario: string;
  first_mes: string;
  alternate_greetings: string[];
  mes_example: string;
  system_prompt: string;
  post_history_instructions: string;
  creator_notes: string;
  creator: string;
  tags: string[];
  language: string;
  real_person: boolean;
  visibility: 'private' | 'unlisted' | 'public';
  avatar_url: string | null;
  created_at: number;
  updated_at: number;
  stats?: { likes: number; passes: number; superlikes: number; conversations: number; messages: number };
}

export interface CharacterSummary {
  id: Id;
  name: string;
  tagline: string;
  avatar_url: string | null;
  real_person: boolean;
  language: string;
}

export interface Message {
  id: Id;
  conversation_id: Id;
  role: 'user' | 'assistant' | 'system';
  content: string;
  status: 'streaming' | 'complete' | 'stopped' | 'failed';
  parent_id: Id | null;
  alternative_index: number;
  alternatives: number;
  rating: number;
  finish_reason: string;
  created_at: number;
}

export interface Conversation {
  id: Id;
  character_id: Id;
  character: CharacterSummary;
  created_at: number;
  updated_at: number;
  last_message: Message | null;
}

export interface Friend {
  character: Character;
  conversation_id: Id | null;
  last_message: Message | null;
  updated_at: number;
  superlike?: boolean;
}

export interface ServerInfo {
  version: string;
  model: { name: string; backend: string; n_ctx: number; is_generated: boolean } | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Builds an ApiError from a failed response, whatever its body looks like. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    /* body unreadable */
  }
  try {
    const j = JSON.parse(text);
    const e = j && typeof j === 'object' ? j.error : null;
    if (e && typeof e === 'object' && typeof e.code === 'string') {
      return new ApiError(res.status, e.code, typeof e.message === 'string' && e.message ? e.message : e.code);
    }
  } catch {
    /* not JSON */
  }
  const msg = text && text.length < 200 && !text.trimStart().startsWith('<') ? text.trim() : res.statusText || `HTTP ${res.status}`;
  return new ApiError(res.status, `http_${res.status}`, msg);
}

type Body = object | Blob | ArrayBuffer | undefined;

export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

let onUnauthorized: (() => void) | null = null;
/** Called when any request answers 401 (the session ended). */
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

export async function request(method: string, path: string, body?: Body, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  let payload: BodyInit | undefined;
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', signal: opts.signal });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', 'Cannot reach the server');
  }
  if (!res.ok) {
    const err = await errorFromResponse(res);
    if (res.status === 401 && onUnauthorized && !path.startsWith('/api/auth/')) onUnauthorized();
    throw err;
  }
  return res;
}

export async function api<T>(method: string, path: string, body?: Body, opts?: RequestOptions): Promise<T> {
  const res = await request(method, path, body, opts);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'bad_response', 'The server sent an unreadable answer');
  }
}

export interface StreamResult {
  /** true when a `done` or `error` event closed the stream; false when the connection dropped. */
  finished: boolean;
  lastEventId: string | null;
}

/** Reads an SSE response body, calling onEvent for every event. */
export async function readSse(res: Response, onEvent: (ev: SseEvent) => void, startId: string | null = null): Promise<StreamResult> {
  const parser = new SseParser();
  let lastEventId = startId;
  let finished = false;
  if (!res.body) return { finished, lastEventId };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const ev of parser.feed(decoder.decode(value, { stream: true }))) {
        if (ev.id !== null) lastEventId = ev.id;
        if (ev.event === 'done' || ev.event === 'error') finished = true;
        onEvent(ev);
      }
    }
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    // dropped mid-stream: the caller may resume
  }
  parser.end();
  return { finished, lastEventId };
}

export function streamRequest(method: string, path: string, body?: object, opts: RequestOptions = {}): Promise<Response> {
  return request(method, path, body, { ...opts, headers: { ...opts.headers, Accept: 'text/event-stream' } });
}

export const qs = (params: Record<string, string | number | undefined | null>): string => {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
};

export const enc = (id: Id): string => encodeURIComponent(String(id));
