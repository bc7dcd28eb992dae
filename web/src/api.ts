// Tokki HTTP API client: JSON requests with typed errors, and SSE streams read with
// fetch + ReadableStream (EventSource cannot POST). Start at `api()` and `streamSse()`.
import { SseParser, type SseEvent } from './sse';

export type Id = number | string;

export type Role = 'user' | 'moderator' | 'admin';

export interface User {
  id: Id;
  username: string;
  display_name: string;
  persona: string;
  /** Missing on servers without moderation: treat as 'user'. */
  role?: Role;
  adult_confirmed?: boolean;
  created_at?: number;
}

/** True for moderators and admins (who see the Admin screen). */
export const isStaff = (u: User | null | undefined): boolean => !!u && (u.role === 'moderator' || u.role === 'admin');

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
  /** Mature (18+): listed only for users who confirmed they are adults. */
  mature?: boolean;
  /** Unpublished by a moderator: only its owner and moderators still see it. */
  hidden?: boolean;
  /** Deleted by its creator; conversations with it stay readable. */
  removed?: boolean;
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
  mature?: boolean;
  hidden?: boolean;
  removed?: boolean;
}

export type ReadOnlyReason = 'character_removed' | 'character_private' | 'character_hidden';

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
  /** A memory pins this message (servers with memory). */
  pinned?: boolean;
  /** Never recalled into a prompt again; still shown in the chat. */
  forgotten?: boolean;
}

export interface Conversation {
  id: Id;
  character_id: Id;
  character: CharacterSummary;
  created_at: number;
  updated_at: number;
  last_message: Message | null;
  /** The character can no longer be talked to: history only. */
  read_only?: boolean;
  read_only_reason?: ReadOnlyReason | null;
}

export interface Friend {
  character: Character;
  conversation_id: Id | null;
  last_message: Message | null;
  updated_at: number;
  superlike?: boolean;
  read_only?: boolean;
  read_only_reason?: ReadOnlyReason | null;
}

/** Whether a conversation's (or friend row's) character was deleted by its creator. */
export const isRemoved = (x: { read_only_reason?: ReadOnlyReason | null; character?: { removed?: boolean } | null } | null | undefined): boolean =>
  !!x && (x.read_only_reason === 'character_removed' || !!x.character?.removed);

export interface ServerInfo {
  version: string;
  model: { name: string; backend?: string; n_ctx?: number; is_generated: boolean; embeddings?: boolean } | null;
  policy?: { require_adult_confirmation: boolean };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds from a Retry-After header (429, 503), when the server sent one. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Seconds to wait from a Retry-After value (delta-seconds or an HTTP date). */
export function parseRetryAfter(v: string | null, nowMs: number = Date.now()): number | null {
  if (!v) return null;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const at = Date.parse(t);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Builds an ApiError from a failed response, whatever its body looks like. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const retry = parseRetryAfter(res.headers.get('Retry-After'));
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
      return new ApiError(res.status, e.code, typeof e.message === 'string' && e.message ? e.message : e.code, retry);
    }
  } catch {
    /* not JSON */
  }
  const msg = text && text.length < 200 && !text.trimStart().startsWith('<') ? text.trim() : res.statusText || `HTTP ${res.status}`;
  return new ApiError(res.status, `http_${res.status}`, msg, retry);
}

type Body = object | Blob | ArrayBuffer | undefined;

export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** A 401 here means a wrong password, not an ended session: do not sign out. */
  keepSession?: boolean;
}

let onUnauthorized: (() => void) | null = null;
/** Called when any request answers 401 (the session ended). */
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

export async function request(method: string, path: string, body?: Body, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let payload: BodyInit | undefined;
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  } else if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    // The server requires a JSON content type on every JSON write, even one with nothing to say.
    headers['Content-Type'] = 'application/json';
    payload = '{}';
  } else if (method === 'DELETE') {
    headers['Content-Type'] = 'application/json';
  }
  Object.assign(headers, opts.headers);
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', signal: opts.signal });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', 'Cannot reach the server');
  }
  if (!res.ok) {
    const err = await errorFromResponse(res);
    if (res.status === 401 && onUnauthorized && !opts.keepSession && !path.startsWith('/api/auth/')) onUnauthorized();
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

// ---------- character drafts

/** A character draft written by the model, in the character's field names. */
export interface CharacterDraft {
  name: string;
  tagline: string;
  description: string;
  personality: string;
  scenario: string;
  first_mes: string;
  mes_example: string;
  tags: string[];
  language: string;
}

/**
 * `POST /api/characters/draft` as a stream: `onText` gets the model's JSON so far after
 * every token, then the `draft` event resolves the promise (an `error` event rejects it
 * with the server's message). Aborting `signal` closes the stream, which cancels the draft.
 */
export async function writeDraft(idea: string, language: string, onText: (soFar: string) => void, signal: AbortSignal): Promise<CharacterDraft> {
  const res = await streamRequest('POST', '/api/characters/draft', { idea, language }, { signal });
  let text = '';
  const out: { draft: CharacterDraft | null; failure: ApiError | null } = { draft: null, failure: null };
  await readSse(res, (ev) => {
    let data: { text?: unknown; draft?: unknown; code?: unknown; message?: unknown } | null = null;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!data) return;
    if (ev.event === 'token' && typeof data.text === 'string') {
      text += data.text;
      onText(text);
    } else if (ev.event === 'draft' && data.draft && typeof data.draft === 'object') {
      out.draft = data.draft as CharacterDraft;
    } else if (ev.event === 'error') {
      out.failure = new ApiError(0, typeof data.code === 'string' ? data.code : 'error', typeof data.message === 'string' ? data.message : 'error');
    }
  });
  if (out.failure) throw out.failure;
  if (!out.draft) throw new ApiError(0, 'stream_dropped', 'The connection was lost');
  return out.draft;
}

// ---------- memory (per user × character; any of the user's conversations with it)

/** A note the user wrote, or a pin: a copy of a message's text made when it was pinned. */
export interface Memory {
  id: Id;
  kind: 'note' | 'pin';
  content: string;
  message_id: Id | null;
  position: number;
  created_at: number;
  updated_at: number;
}

/** The "story so far": written by a background job, or by the user (`edited`). */
export interface Summary {
  version: number;
  content: string;
  covers_until_message_id: Id | null;
  edited: boolean;
  created_at: number;
}

export interface MemoryList {
  items: Memory[];
  summary: Summary | null;
  limits: { max_items: number; max_chars: number };
  /** The engine is the generated demo model: its summaries are noise. */
  demo_model: boolean;
}

export const SUMMARY_MAX_CHARS = 4000;
/** Used until the server's `limits` are known. */
export const DEFAULT_MEMORY_LIMITS = { max_items: 50, max_chars: 2000 };

/** The prompt's parts, in the order the server assembles them. */
export const PROMPT_SECTIONS = ['static', 'persona', 'pinned', 'summary', 'recalled', 'lorebook', 'history', 'post_history', 'draft'] as const;
export type PromptSection = (typeof PROMPT_SECTIONS)[number];

/** A message a recalled passage came from. */
export interface SourceRef {
  message_id: Id;
  conversation_id: Id;
  created_at: number;
}

export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  section: PromptSection | string;
  source_ids?: SourceRef[];
}

/** `GET …/prompt`: exactly what the next turn would send, with token counts per section. */
export interface PromptView {
  messages: PromptMessage[];
  n_tokens: number;
  n_ctx: number;
  sections: Record<string, number>;
}

/** `GET …/export`. */
export interface ConversationExport {
  format: 'tokki-conversation';
  version: number;
  conversation: Conversation;
  character: { id: Id; name: string };
  messages: Message[];
  memories: { items: Memory[]; summary: Summary | null };
}

/** A file name from a Content-Disposition header (`filename*=UTF-8''…` or `filename="…"`), or null. */
export function dispositionFilename(h: string | null): string | null {
  if (!h) return null;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(h);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/.exec(h);
  const v = plain ? (plain[1] ?? plain[2] ?? '').trim() : '';
  if (!v) return null;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

const convPath = (conv: Id) => `/api/conversations/${enc(conv)}`;

export const memory = {
  list: (conv: Id) => api<MemoryList>('GET', `${convPath(conv)}/memories`),
  /** 201 with the note; 400 with the server's reason past the limits. */
  addNote: (conv: Id, content: string) => api<Memory>('POST', `${convPath(conv)}/memories`, { content }),
  /** 201 with the pin; 409 `already_exists` when the message is pinned already. */
  pin: (conv: Id, messageId: Id) => api<Memory>('POST', `${convPath(conv)}/memories`, { message_id: messageId }),
  update: (conv: Id, id: Id, content: string) => api<Memory>('PATCH', `${convPath(conv)}/memories/${enc(id)}`, { content }),
  remove: (conv: Id, id: Id) => api<void>('DELETE', `${convPath(conv)}/memories/${enc(id)}`),
  /** `ids` must be exactly the relationship's memory ids, in the new order. */
  reorder: async (conv: Id, ids: Id[]) => (await api<{ items: Memory[] }>('PUT', `${convPath(conv)}/memories/order`, { ids })).items,
  /** "" clears the summary. Answers the new version. */
  saveSummary: (conv: Id, content: string) => api<Summary>('PUT', `${convPath(conv)}/summary`, { content }),
  /** The message stays in the chat but is never recalled again. */
  forget: (conv: Id, messageId: Id) => api<void>('POST', `${convPath(conv)}/messages/${enc(messageId)}/forget`),
  /** What the next turn would send if the user typed `draft`. */
  prompt: (conv: Id, draft: string, signal?: AbortSignal) => api<PromptView>('GET', `${convPath(conv)}/prompt?draft=${encodeURIComponent(draft)}`, undefined, { signal }),
  /** The conversation as a JSON file: its bytes and the name the server suggests. */
  exportFile: async (conv: Id): Promise<{ blob: Blob; filename: string }> => {
    const res = await request('GET', `${convPath(conv)}/export`);
    const filename = dispositionFilename(res.headers.get('Content-Disposition')) || `tokki-conversation-${conv}.json`;
    return { blob: await res.blob(), filename };
  },
};

/** The pin of a message in a memory list, if any. */
export const pinOf = (items: Memory[] | null | undefined, messageId: Id): Memory | undefined =>
  (items || []).find((m) => m.kind === 'pin' && m.message_id !== null && String(m.message_id) === String(messageId));

/** `ids` with the item at `index` moved by `delta` places (unchanged when it cannot move). */
export function moved<T>(list: T[], index: number, delta: number): T[] {
  const j = index + delta;
  if (index < 0 || index >= list.length || j < 0 || j >= list.length) return list;
  const out = list.slice();
  [out[index], out[j]] = [out[j], out[index]];
  return out;
}

// ---------- account

/** `PATCH /api/me` with any of the editable fields; answers the updated user. */
export async function updateMe(fields: { display_name?: string; persona?: string; adult_confirmed?: boolean }): Promise<User> {
  return (await api<{ user: User }>('PATCH', '/api/me', fields)).user;
}

/** `DELETE /api/me {password}`: deletes the account (401 on a wrong password keeps the session). */
export function deleteAccount(password: string): Promise<void> {
  return api<void>('DELETE', '/api/me', { password }, { keepSession: true });
}

/** The `mature` query value for lists and the deck: asked for only by confirmed adults. */
export const matureParam = (u: User | null | undefined): 1 | undefined => (u?.adult_confirmed ? 1 : undefined);

// ---------- reports

export const REPORT_REASONS = ['sexual_content_minors', 'harassment', 'hate', 'violence', 'self_harm', 'spam', 'impersonation', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
export type ReportStatus = 'open' | 'dismissed' | 'actioned';
export const REPORT_NOTE_MAX = 1000;

export interface ReportInput {
  target_kind: 'character' | 'message';
  target_id: Id;
  reason: ReportReason;
  note?: string;
}

export interface UserRef {
  id: Id;
  username: string;
}

export interface Report {
  id: Id;
  target_kind: 'character' | 'message';
  target_id: Id;
  reason: ReportReason | string;
  note: string | null;
  status: ReportStatus;
  created_at: number;
  reporter?: UserRef | null;
  character?: { id: Id; name: string; tagline: string; avatar_url?: string | null; hidden: boolean; removed: boolean; owner: UserRef | null } | null;
  context?: (Message & { reported?: boolean })[];
  resolved_by?: UserRef | null;
  resolved_at?: number | null;
}

/** `POST /api/reports`: 201 with the stored report; 409 `already_exists` when reported before. */
export async function createReport(r: ReportInput): Promise<Report> {
  const body: ReportInput = { target_kind: r.target_kind, target_id: r.target_id, reason: r.reason };
  const note = (r.note || '').trim();
  if (note) body.note = [...note].slice(0, REPORT_NOTE_MAX).join('');
  return (await api<{ report: Report }>('POST', '/api/reports', body)).report;
}

// ---------- moderation (moderators and admins)

export interface AdminUser {
  id: Id;
  username: string;
  role: Role;
  suspended: boolean;
  created_at: number;
}

export interface AuditEntry {
  id: Id;
  actor: UserRef | null;
  action: string;
  target_kind: string;
  target_id: Id | null;
  detail: unknown;
  created_at: number;
}

export interface PolicyRule {
  id?: Id;
  language: string;
  type: 'term' | 'pattern';
  text: string;
  action: 'block' | 'review';
}

export interface Policy {
  rules: PolicyRule[];
  check_replies: boolean;
  require_adult_confirmation: boolean;
}

export const admin = {
  reports: (status: ReportStatus, before?: Id | null) =>
    api<{ items: Report[]; next_before: Id | null }>('GET', `/api/admin/reports${qs({ status, before })}`),
  dismiss: async (reportId: Id) => (await api<{ report: Report }>('POST', `/api/admin/reports/${enc(reportId)}/dismiss`)).report,
  hideCharacter: async (characterId: Id, hidden: boolean, reportId?: Id | null) =>
    (await api<{ character: Character }>('POST', `/api/admin/characters/${enc(characterId)}/hide`, reportId != null ? { hidden, report_id: reportId } : { hidden })).character,
  suspendUser: async (userId: Id, suspended: boolean, reportId?: Id | null) =>
    (await api<{ user: AdminUser }>('POST', `/api/admin/users/${enc(userId)}/suspend`, reportId != null ? { suspended, report_id: reportId } : { suspended })).user,
  users: (q: string, after?: Id | null) => api<{ items: AdminUser[]; next_after: Id | null }>('GET', `/api/admin/users${qs({ q, after })}`),
  setRole: async (userId: Id, role: Role) => (await api<{ user: AdminUser }>('PATCH', `/api/admin/users/${enc(userId)}`, { role })).user,
  audit: (before?: Id | null) => api<{ items: AuditEntry[]; next_before: Id | null }>('GET', `/api/admin/audit${qs({ before })}`),
  policy: () => api<Policy>('GET', '/api/admin/policy'),
  savePolicy: (p: Policy) => api<Policy>('PUT', '/api/admin/policy', p),
};
