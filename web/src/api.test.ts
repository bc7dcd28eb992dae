import { afterEach, describe, expect, it, vi } from 'vitest';
import { admin, api, ApiError, createReport, deleteAccount, errorFromResponse, matureParam, parseRetryAfter, qs, readSse, request, setUnauthorizedHandler, streamRequest, updateMe } from './api';

function mockFetch(impl: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const f = vi.fn(impl);
  vi.stubGlobal('fetch', f);
  return f;
}
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedHandler(null);
});

describe('api client', () => {
  it('sends JSON with same-origin credentials and parses the answer', async () => {
    const f = mockFetch(() => json(200, { user: { id: 1 } }));
    const r = await api<{ user: { id: number } }>('POST', '/api/auth/login', { username: 'a', password: 'b' });
    expect(r.user.id).toBe(1);
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('/api/auth/login');
    expect(init.credentials).toBe('same-origin');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(init.body).toBe('{"username":"a","password":"b"}');
  });

  it('turns the error JSON into an ApiError with status, code and message', async () => {
    mockFetch(() => json(409, { error: { code: 'username_taken', message: 'that username is taken' } }));
    const e = await api('POST', '/api/auth/register', {}).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 409, code: 'username_taken', message: 'that username is taken' });
  });

  it('copes with non-JSON and HTML error bodies', async () => {
    const a = await errorFromResponse(new Response('upstream timed out', { status: 504, statusText: 'Gateway Timeout' }));
    expect(a).toMatchObject({ status: 504, code: 'http_504', message: 'upstream timed out' });
    const b = await errorFromResponse(new Response('<html><body>Bad</body></html>', { status: 502, statusText: 'Bad Gateway' }));
    expect(b).toMatchObject({ code: 'http_502', message: 'Bad Gateway' });
    const c = await errorFromResponse(new Response('{"error":"flat"}', { status: 400 }));
    expect(c.code).toBe('http_400');
  });

  it('reports network failures as network_error and passes aborts through', async () => {
    mockFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    await expect(api('GET', '/api/me')).rejects.toMatchObject({ code: 'network_error', status: 0 });
    const abort = new DOMException('aborted', 'AbortError');
    mockFetch(() => Promise.reject(abort));
    await expect(api('GET', '/api/me')).rejects.toBe(abort);
  });

  it('calls the unauthorized handler on 401 except for auth routes', async () => {
    const h = vi.fn();
    setUnauthorizedHandler(h);
    mockFetch(() => json(401, { error: { code: 'unauthenticated', message: 'log in first' } }));
    await expect(api('GET', '/api/friends')).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(h).toHaveBeenCalledTimes(1);
    await expect(api('POST', '/api/auth/login', {})).rejects.toBeInstanceOf(ApiError);
    expect(h).toHaveBeenCalledTimes(1);
  });

  it('returns undefined for 204 and rejects unreadable JSON', async () => {
    mockFetch(() => new Response(null, { status: 204 }));
    expect(await api('DELETE', '/api/characters/1')).toBeUndefined();
    mockFetch(() => new Response('not json', { status: 200 }));
    await expect(api('GET', '/api/me')).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('sends binary bodies as-is with the given content type', async () => {
    const f = mockFetch(() => json(201, { id: 9 }));
    const blob = new Blob([new Uint8Array([137, 80, 78, 71])]);
    await request('POST', '/api/characters/import', blob, { headers: { 'Content-Type': 'application/octet-stream', 'X-Filename': 'a.png' } });
    const init = f.mock.calls[0][1];
    expect(init.body).toBe(blob);
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/octet-stream');
  });

  it('builds query strings, skipping empty values', () => {
    expect(qs({ limit: 10, lang: 'ko,en', tag: '', q: undefined })).toBe('?limit=10&lang=ko%2Cen');
    expect(qs({})).toBe('');
  });
});

function streamOf(chunks: string[], fail = false): Response {
  const enc = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]));
      else if (fail) c.error(new TypeError('network error'));
      else c.close();
    },
  });
  return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
}

describe('readSse', () => {
  it('reports a finished stream and the last event id', async () => {
    const seen: string[] = [];
    const r = await readSse(streamOf(['event: reply\ndata: {"id":3}\n\nid: 1\nevent: to', 'ken\ndata: {"text":"a"}\n\nevent: done\ndata: {}\n\n']), (e) => seen.push(e.event));
    expect(seen).toEqual(['reply', 'token', 'done']);
    expect(r).toEqual({ finished: true, lastEventId: '1' });
  });

  it('reports a dropped stream as unfinished with the id to resume from', async () => {
    const r = await readSse(streamOf(['id: 1\nevent: token\ndata: {"text":"a"}\n\nid: 2\nevent: token\ndata: {"text":"b"}\n\nid: 3\nevent: tok'], true), () => {});
    expect(r).toEqual({ finished: false, lastEventId: '2' });
  });

  it('a stream closed without done is unfinished; an error event finishes it', async () => {
    expect((await readSse(streamOf(['id: 4\nevent: token\ndata: {}\n\n']), () => {})).finished).toBe(false);
    expect((await readSse(streamOf(['event: error\ndata: {"code":"x","message":"y"}\n\n']), () => {})).finished).toBe(true);
  });
});

describe('JSON writes carry Content-Type: application/json', () => {
  const ct = (init: RequestInit) => (init.headers as Record<string, string>)['Content-Type'];

  it('a body-less POST sends {} as JSON; a GET sends no content type', async () => {
    const f = mockFetch(() => json(200, { ok: true }));
    await api('POST', '/api/auth/logout');
    await api('POST', '/api/conversations/1/stop');
    await api('GET', '/api/me');
    expect(ct(f.mock.calls[0][1])).toBe('application/json');
    expect(f.mock.calls[0][1].body).toBe('{}');
    expect(ct(f.mock.calls[1][1])).toBe('application/json');
    expect(ct(f.mock.calls[2][1])).toBeUndefined();
    expect(f.mock.calls[2][1].body).toBeUndefined();
  });

  it('PATCH, PUT and DELETE set it too; binary uploads keep their own type', async () => {
    const f = mockFetch(() => new Response(null, { status: 204 }));
    await api('PATCH', '/api/me', { persona: 'x' });
    await api('PUT', '/api/admin/policy', { rules: [] });
    await api('DELETE', '/api/characters/3');
    await request('PUT', '/api/characters/3/avatar', new Blob([new Uint8Array([1])]), { headers: { 'Content-Type': 'image/png' } });
    expect(f.mock.calls.map((c) => ct(c[1]))).toEqual(['application/json', 'application/json', 'application/json', 'image/png']);
    expect(f.mock.calls[2][1].body).toBeUndefined();
  });

  it('SSE sends are JSON with Accept: text/event-stream', async () => {
    const f = mockFetch(() => new Response('', { status: 200 }));
    await streamRequest('POST', '/api/conversations/1/messages', { content: 'hi' });
    const h = f.mock.calls[0][1].headers as Record<string, string>;
    expect(h['Content-Type']).toBe('application/json');
    expect(h.Accept).toBe('text/event-stream');
  });
});

describe('account, reports and moderation calls', () => {
  const call = (f: ReturnType<typeof mockFetch>, i = 0) => {
    const [url, init] = f.mock.calls[i];
    return { url, method: init.method, body: init.body ? JSON.parse(String(init.body)) : undefined, ct: (init.headers as Record<string, string>)['Content-Type'] };
  };

  it('updateMe sends adult_confirmed and returns the user', async () => {
    const f = mockFetch(() => json(200, { user: { id: 1, username: 'a', adult_confirmed: true } }));
    const u = await updateMe({ adult_confirmed: true });
    expect(u.adult_confirmed).toBe(true);
    expect(call(f)).toEqual({ url: '/api/me', method: 'PATCH', body: { adult_confirmed: true }, ct: 'application/json' });
  });

  it('deleteAccount sends the password; a wrong one (401) does not end the session', async () => {
    const h = vi.fn();
    setUnauthorizedHandler(h);
    let f = mockFetch(() => new Response(null, { status: 204 }));
    await deleteAccount('correct horse');
    expect(call(f)).toEqual({ url: '/api/me', method: 'DELETE', body: { password: 'correct horse' }, ct: 'application/json' });
    f = mockFetch(() => json(401, { error: { code: 'unauthenticated', message: 'wrong password' } }));
    await expect(deleteAccount('nope')).rejects.toMatchObject({ status: 401, message: 'wrong password' });
    expect(h).not.toHaveBeenCalled();
  });

  it('matureParam asks for mature characters only for confirmed adults', () => {
    expect(matureParam(null)).toBeUndefined();
    expect(matureParam({ id: 1, username: 'a', display_name: '', persona: '' })).toBeUndefined();
    expect(matureParam({ id: 1, username: 'a', display_name: '', persona: '', adult_confirmed: false })).toBeUndefined();
    expect(matureParam({ id: 1, username: 'a', display_name: '', persona: '', adult_confirmed: true })).toBe(1);
    expect(qs({ limit: 10, mature: matureParam(null) })).toBe('?limit=10');
  });

  it('createReport sends kind, id, reason and a trimmed note (omitted when empty)', async () => {
    const f = mockFetch(() => json(201, { report: { id: 7 } }));
    expect((await createReport({ target_kind: 'character', target_id: 3, reason: 'spam', note: '  buy now  ' })).id).toBe(7);
    await createReport({ target_kind: 'message', target_id: '9', reason: 'hate', note: '   ' });
    await createReport({ target_kind: 'message', target_id: 9, reason: 'other', note: 'x'.repeat(1500) });
    expect(call(f, 0)).toEqual({ url: '/api/reports', method: 'POST', body: { target_kind: 'character', target_id: 3, reason: 'spam', note: 'buy now' }, ct: 'application/json' });
    expect(call(f, 1).body).toEqual({ target_kind: 'message', target_id: '9', reason: 'hate' });
    expect(call(f, 2).body.note).toHaveLength(1000);
  });

  it('a second report of the same thing is a 409 already_exists ApiError', async () => {
    mockFetch(() => json(409, { error: { code: 'already_exists', message: 'you already reported this' } }));
    await expect(createReport({ target_kind: 'character', target_id: 3, reason: 'spam' })).rejects.toMatchObject({ status: 409, code: 'already_exists' });
  });

  it('moderation calls use the documented paths and bodies', async () => {
    const f = mockFetch((url) => {
      if (url.includes('/hide')) return json(200, { character: { id: 4, hidden: true } });
      if (url.includes('/dismiss')) return json(200, { report: { id: 2, status: 'dismissed' } });
      if (url.includes('/users/') ) return json(200, { user: { id: 5, role: 'moderator', suspended: true } });
      if (url.includes('/policy')) return json(200, { rules: [], check_replies: true, require_adult_confirmation: false });
      return json(200, { items: [], next_before: null, next_after: null });
    });
    await admin.reports('open');
    await admin.reports('actioned', 40);
    expect((await admin.dismiss(2)).status).toBe('dismissed');
    expect((await admin.hideCharacter(4, true, 2)).hidden).toBe(true);
    await admin.hideCharacter(4, false);
    await admin.suspendUser(5, true, 2);
    await admin.suspendUser(5, false);
    await admin.users('ad', 10);
    await admin.users('');
    await admin.setRole(5, 'moderator');
    await admin.audit();
    await admin.audit(99);
    await admin.policy();
    const pol = { rules: [{ language: 'en', type: 'term' as const, text: 'bad', action: 'block' as const }], check_replies: true, require_adult_confirmation: false };
    await admin.savePolicy(pol);
    const calls = f.mock.calls.map((_, i) => call(f, i));
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/admin/reports?status=open',
      'GET /api/admin/reports?status=actioned&before=40',
      'POST /api/admin/reports/2/dismiss',
      'POST /api/admin/characters/4/hide',
      'POST /api/admin/characters/4/hide',
      'POST /api/admin/users/5/suspend',
      'POST /api/admin/users/5/suspend',
      'GET /api/admin/users?q=ad&after=10',
      'GET /api/admin/users',
      'PATCH /api/admin/users/5',
      'GET /api/admin/audit',
      'GET /api/admin/audit?before=99',
      'GET /api/admin/policy',
      'PUT /api/admin/policy',
    ]);
    expect(calls[2].body).toEqual({});
    expect(calls[3].body).toEqual({ hidden: true, report_id: 2 });
    expect(calls[4].body).toEqual({ hidden: false });
    expect(calls[5].body).toEqual({ suspended: true, report_id: 2 });
    expect(calls[6].body).toEqual({ suspended: false });
    expect(calls[9].body).toEqual({ role: 'moderator' });
    expect(calls[13].body).toEqual(pol);
    for (const c of calls) expect(c.ct).toBe(c.method === 'GET' ? undefined : 'application/json');
  });

  it('keeps Retry-After on 429 errors (seconds or an HTTP date)', async () => {
    mockFetch(() => new Response(JSON.stringify({ error: { code: 'resource_exhausted', message: 'daily message limit reached' } }), { status: 429, headers: { 'Retry-After': '120' } }));
    await expect(api('POST', '/api/conversations/1/messages', { content: 'x' })).rejects.toMatchObject({ status: 429, code: 'resource_exhausted', retryAfter: 120 });
    expect(parseRetryAfter(new Date(10_000 + 30_000).toUTCString(), 10_000)).toBe(30);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
  });
});
