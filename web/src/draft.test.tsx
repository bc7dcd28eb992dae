// "Draft with AI": the streamed draft request, the progress, and the editor's form filled
// from a draft without saving anything.
import { render } from 'preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeDraft, type CharacterDraft, type ServerInfo, type User } from './api';
import { draftProgress } from './components/draft';
import { applyDraft, EditorScreen, type Draft } from './screens/editor';
import { setLang } from './i18n';
import { Ctx, type AppCtx } from './state';

const DRAFT: CharacterDraft = {
  name: 'Mira',
  tagline: 'Bakes at night',
  description: 'Flour on her sleeves.',
  personality: 'Warm, curious.',
  scenario: 'Her shop at 3 a.m.',
  first_mes: 'Oh! You are up late too?',
  mes_example: '{{user}}: Hi\n{{char}}: Hello!',
  tags: ['baker', 'cozy'],
  language: 'ko',
};

/** An SSE response whose body arrives in the given chunks. */
function sse(chunks: string[]): Response {
  const enc = new TextEncoder();
  let i = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(c) {
        if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]));
        else c.close();
      },
    }),
    { status: 200, headers: { 'Content-Type': 'text/event-stream' } },
  );
}
const tok = (id: number, text: string) => `id: ${id}\nevent: token\ndata: ${JSON.stringify({ text })}\n\n`;
const modelJson = '{"name":"Mira","tagline":"Bakes at night","description":"Flour"';
const draftEvent = (id: number) => `id: ${id}\nevent: draft\ndata: ${JSON.stringify({ draft: DRAFT, finish_reason: 'stop', usage: {}, timings: {} })}\n\n`;

let root: HTMLElement;
const me: User = { id: 1, username: 'jun', display_name: 'Jun', persona: '', role: 'user' };
function mount(node: preact.ComponentChildren, server: ServerInfo | null) {
  const ctx: AppCtx = { user: me, setUser: () => {}, server, toast: vi.fn() as unknown as AppCtx['toast'] };
  render(<Ctx.Provider value={ctx}>{node}</Ctx.Provider>, root);
}
const $ = <T extends Element = HTMLElement>(sel: string) => root.querySelector<T>(sel);
const button = (name: string) => [...root.querySelectorAll('button')].find((b) => b.textContent?.includes(name)) as HTMLButtonElement | undefined;
function type(el: HTMLInputElement | HTMLTextAreaElement, value: string) {
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

beforeEach(() => {
  setLang('en');
  root = document.createElement('div');
  document.body.appendChild(root);
});
afterEach(() => {
  render(null, root);
  document.body.innerHTML = '';
  vi.unstubAllGlobals();
});

describe('writeDraft', () => {
  it('posts the idea as a stream, reports the text so far and resolves with the draft', async () => {
    const f = vi.fn(async (_url: string, _init: RequestInit) => sse([tok(1, modelJson.slice(0, 10)), tok(2, modelJson.slice(10)), draftEvent(3)]));
    vi.stubGlobal('fetch', f);
    const seen: string[] = [];
    const d = await writeDraft('a night baker', 'ko', (s) => seen.push(s), new AbortController().signal);
    expect(d).toEqual(DRAFT);
    expect(seen).toEqual([modelJson.slice(0, 10), modelJson]);
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('/api/characters/draft');
    expect(init.method).toBe('POST');
    const headers = init.headers as Record<string, string>;
    expect(headers.Accept).toBe('text/event-stream');
    expect(headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(String(init.body))).toEqual({ idea: 'a night baker', language: 'ko' });
  });

  it('rejects with the server’s message on an error event or a dropped stream', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => sse([tok(1, '{"na'), 'id: 2\nevent: error\ndata: {"code":"unavailable","message":"the draft was cut short"}\n\n'])));
    await expect(writeDraft('x', 'en', () => {}, new AbortController().signal)).rejects.toThrow('the draft was cut short');
    vi.stubGlobal('fetch', vi.fn(async () => sse([tok(1, '{"na')])));
    await expect(writeDraft('x', 'en', () => {}, new AbortController().signal)).rejects.toThrow('The connection was lost');
  });
});

describe('draft progress and form', () => {
  it('follows the field being written', () => {
    expect(draftProgress('')).toBe(-1);
    expect(draftProgress('{"name":"Mi')).toBe(0);
    expect(draftProgress('{"name":"Mira","tagline":"B')).toBe(1);
    expect(draftProgress('…,"example_dialogue":"x","tags":["a"')).toBe(7);
  });

  it('fills the draft’s fields and keeps the rest of the form', () => {
    const before: Draft = {
      name: 'Old', tagline: '', description: '', personality: '', scenario: '', first_mes: '', alternate_greetings: ['hi'], mes_example: '',
      tags: '', language: 'en', visibility: 'public', real_person: false, mature: true,
    };
    const after = applyDraft(before, DRAFT);
    expect(after).toEqual({ ...before, ...DRAFT, tags: 'baker, cozy', alternate_greetings: ['hi'], visibility: 'public', mature: true });
  });
});

describe('Draft with AI in the editor', () => {
  it('asks for an idea, streams progress, fills the form and saves nothing', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((ok) => (release = ok));
    const enc = new TextEncoder();
    const f = vi.fn(async () => {
      let step = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(c) {
            if (step === 0) c.enqueue(enc.encode(tok(1, modelJson)));
            else if (step === 1) {
              await gate; // hold the draft back while the progress is checked
              c.enqueue(enc.encode(draftEvent(2)));
            } else c.close();
            step++;
          },
        }),
        { status: 200 },
      );
    });
    vi.stubGlobal('fetch', f);
    mount(<EditorScreen />, { version: 't', model: { name: 'tiny', is_generated: true } });
    button('Draft with AI')!.click();
    await vi.waitFor(() => expect($('[data-testid=draft-dialog]')).not.toBeNull());
    // The demo model writes noise, and the dialog says so.
    expect($('.draft-demo')!.textContent).toContain('random noise');
    button('Write draft')!.click();
    await vi.waitFor(() => expect($('[role=alert]')?.textContent).toBe('Your idea is required.'));
    expect(f).not.toHaveBeenCalled();
    type($<HTMLTextAreaElement>('#draft-idea')!, 'a baker who only works at night');
    const lang = $<HTMLSelectElement>('#draft-language')!;
    lang.value = 'ko';
    lang.dispatchEvent(new Event('change', { bubbles: true }));
    await vi.waitFor(() => expect($('#draft-idea-left')!.textContent).toBe(`${2000 - 'a baker who only works at night'.length} characters left`));
    button('Write draft')!.click();
    await vi.waitFor(() => expect($('.draft-progress')?.textContent).toContain('Writing Description'));
    expect($('.draft-progress')!.textContent).toContain(`${modelJson.length} characters so far`);
    release();
    await vi.waitFor(() => expect($('[data-testid=draft-dialog]')).toBeNull());
    expect($<HTMLInputElement>('#f-name')!.value).toBe('Mira');
    expect($<HTMLInputElement>('#f-tagline')!.value).toBe('Bakes at night');
    expect($<HTMLTextAreaElement>('#f-first_mes')!.value).toBe('Oh! You are up late too?');
    expect($<HTMLTextAreaElement>('#f-mes_example')!.value).toBe('{{user}}: Hi\n{{char}}: Hello!');
    expect($<HTMLInputElement>('#f-tags')!.value).toBe('baker, cozy');
    expect($<HTMLSelectElement>('#f-language')!.value).toBe('ko');
    expect($('.draft-filled')!.textContent).toContain('nothing is saved');
    // One request, the draft; no character was created.
    expect(f).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String((f.mock.calls[0] as unknown as [string, RequestInit])[1].body))).toEqual({ idea: 'a baker who only works at night', language: 'ko' });
  });

  it('has no demo note for a real model, and no draft button when editing', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ id: 5, name: 'Kept', visibility: 'private', real_person: false }), { status: 200 })));
    mount(<EditorScreen />, { version: 't', model: { name: 'real', is_generated: false } });
    button('Draft with AI')!.click();
    await vi.waitFor(() => expect($('[data-testid=draft-dialog]')).not.toBeNull());
    expect($('.draft-demo')).toBeNull();
    render(null, root);
    mount(<EditorScreen id="5" />, null);
    await vi.waitFor(() => expect($<HTMLInputElement>('#f-name')?.value).toBe('Kept'));
    expect(button('Draft with AI')).toBeUndefined();
  });
});
