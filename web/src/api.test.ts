import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, errorFromResponse, qs, readSse, request, setUnauthorizedHandler } from './api';

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
