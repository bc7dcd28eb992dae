// Memory: the API client's request shapes, the Memories panel (notes, edit, delete, order,
// summary, demo notice), the prompt inspector, and pin / unpin / forget from a message's menu.
import { render } from 'preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dispositionFilename, memory, moved, pinOf, type Memory, type MemoryList, type Message, type PromptView, type User } from './api';
import { MemoriesPanel } from './components/memories';
import { PromptInspector, promptBlocks } from './components/inspector';
import { ChatScreen } from './screens/chat';
import { setLang } from './i18n';
import { Ctx, type AppCtx } from './state';

type Call = { method: string; url: string; body: unknown };
type Handler = (call: Call) => Response | Promise<Response>;
const json = (status: number, body?: unknown) => (body === undefined ? new Response(null, { status }) : new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }));

/** A fetch stub answering "METHOD /path" (query ignored) from the routes, recording every call. */
function serve(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const f = vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = init.method || 'GET';
    const body = typeof init.body === 'string' && init.body ? JSON.parse(init.body) : undefined;
    const call = { method, url, body };
    calls.push(call);
    const h = routes[`${method} ${url.split('?')[0]}`];
    return h ? h(call) : json(404, { error: { code: 'not_found', message: `no route ${method} ${url}` } });
  });
  vi.stubGlobal('fetch', f);
  return calls;
}

const mem = (id: number, kind: 'note' | 'pin', content: string, position: number, message_id: number | null = null): Memory => ({
  id, kind, content, message_id, position, created_at: 1_700_000_000_000, updated_at: 1_700_000_000_000,
});
const LIST: MemoryList = {
  // Out of order on purpose: the panel shows them by position.
  items: [mem(11, 'pin', 'I grew up by the sea.', 1, 101), mem(10, 'note', 'My sister is Hana.', 0)],
  summary: { version: 3, content: 'They met at the café and talked about the sea.', covers_until_message_id: 99, edited: false, created_at: 1_700_000_000_000 },
  limits: { max_items: 50, max_chars: 2000 },
  demo_model: true,
};

let root: HTMLElement;
const toast = vi.fn();
const me: User = { id: 1, username: 'jun', display_name: 'Jun', persona: '', role: 'user' };
function mount(node: preact.ComponentChildren) {
  const ctx: AppCtx = { user: me, setUser: () => {}, server: null, toast: toast as unknown as AppCtx['toast'] };
  render(<Ctx.Provider value={ctx}>{node}</Ctx.Provider>, root);
}
const $ = <T extends Element = HTMLElement>(sel: string) => root.querySelector<T>(sel);
const $$ = <T extends Element = HTMLElement>(sel: string) => [...root.querySelectorAll<T>(sel)];
const button = (name: string, within: ParentNode = root) =>
  [...within.querySelectorAll('button')].find((b) => b.getAttribute('aria-label') === name || b.textContent?.trim() === name) as HTMLButtonElement | undefined;
function type(el: HTMLTextAreaElement, value: string) {
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}
const texts = () => $$('[data-testid=memory] .mem-text').map((p) => p.textContent);

beforeEach(() => {
  setLang('en');
  toast.mockReset();
  root = document.createElement('div');
  document.body.appendChild(root);
});
afterEach(() => {
  render(null, root);
  document.body.innerHTML = '';
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('memory API client', () => {
  it('sends each route with the method, path and body of the spec', async () => {
    const calls = serve({
      'GET /api/conversations/7/memories': () => json(200, LIST),
      'POST /api/conversations/7/memories': (c) => json(201, mem(12, (c.body as { message_id?: number }).message_id ? 'pin' : 'note', 'x', 2)),
      'PATCH /api/conversations/7/memories/12': () => json(200, mem(12, 'note', 'y', 2)),
      'DELETE /api/conversations/7/memories/12': () => json(204),
      'PUT /api/conversations/7/memories/order': () => json(200, { items: [LIST.items[0], LIST.items[1]] }),
      'PUT /api/conversations/7/summary': () => json(200, { ...LIST.summary, version: 4, edited: true }),
      'POST /api/conversations/7/messages/5/forget': () => json(204),
      'GET /api/conversations/7/prompt': () => json(200, { messages: [], n_tokens: 0, n_ctx: 4096, sections: {} }),
    });
    expect((await memory.list(7)).limits.max_items).toBe(50);
    expect((await memory.addNote(7, 'hello')).kind).toBe('note');
    expect((await memory.pin(7, 5)).kind).toBe('pin');
    expect((await memory.update(7, 12, 'y')).content).toBe('y');
    expect(await memory.remove(7, 12)).toBeUndefined();
    expect((await memory.reorder(7, [11, 10])).map((m) => m.id)).toEqual([11, 10]);
    expect((await memory.saveSummary(7, '')).version).toBe(4);
    expect(await memory.forget(7, 5)).toBeUndefined();
    await memory.prompt(7, 'where is Hana & the cat?');
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['GET', '/api/conversations/7/memories', undefined],
      ['POST', '/api/conversations/7/memories', { content: 'hello' }],
      ['POST', '/api/conversations/7/memories', { message_id: 5 }],
      ['PATCH', '/api/conversations/7/memories/12', { content: 'y' }],
      ['DELETE', '/api/conversations/7/memories/12', undefined],
      ['PUT', '/api/conversations/7/memories/order', { ids: [11, 10] }],
      ['PUT', '/api/conversations/7/summary', { content: '' }],
      ['POST', '/api/conversations/7/messages/5/forget', {}],
      ['GET', `/api/conversations/7/prompt?draft=${encodeURIComponent('where is Hana & the cat?')}`, undefined],
    ]);
  });

  it('passes the server’s refusal through as an ApiError', async () => {
    serve({ 'POST /api/conversations/7/memories': () => json(400, { error: { code: 'invalid_argument', message: 'a friend keeps at most 50 memories' } }) });
    await expect(memory.addNote(7, 'one more')).rejects.toMatchObject({ status: 400, code: 'invalid_argument', message: 'a friend keeps at most 50 memories' });
  });

  it('downloads the export with the server’s file name', async () => {
    serve({
      'GET /api/conversations/7/export': () =>
        new Response('{"format":"tokki-conversation"}', { status: 200, headers: { 'Content-Type': 'application/json', 'Content-Disposition': 'attachment; filename="chat-7.json"' } }),
    });
    const { blob, filename } = await memory.exportFile(7);
    expect(filename).toBe('chat-7.json');
    expect(JSON.parse(await blob.text()).format).toBe('tokki-conversation');
    expect(dispositionFilename(`attachment; filename*=UTF-8''${encodeURIComponent('미나.json')}; filename="x.json"`)).toBe('미나.json');
    expect(dispositionFilename('attachment; filename=plain.json')).toBe('plain.json');
    expect(dispositionFilename(null)).toBeNull();
    serve({ 'GET /api/conversations/8/export': () => new Response('{}', { status: 200 }) });
    expect((await memory.exportFile(8)).filename).toBe('tokki-conversation-8.json');
  });

  it('finds a message’s pin and moves list items', () => {
    expect(pinOf(LIST.items, 101)?.id).toBe(11);
    expect(pinOf(LIST.items, '101')?.id).toBe(11);
    expect(pinOf(LIST.items, 999)).toBeUndefined();
    expect(moved([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(moved([1, 2, 3], 2, -1)).toEqual([1, 3, 2]);
    const same = [1, 2, 3];
    expect(moved(same, 0, -1)).toBe(same);
    expect(moved(same, 2, 1)).toBe(same);
  });
});

function panel(over: Partial<Parameters<typeof MemoriesPanel>[0]> = {}) {
  const props = { conversationId: 7, name: 'Mina', onClose: vi.fn(), onInspect: vi.fn(), onExport: vi.fn(), onUnpinned: vi.fn(), ...over };
  mount(<MemoriesPanel {...props} />);
  return props;
}

describe('Memories panel', () => {
  it('lists memories in prompt order with their limits, the summary and the demo notice', async () => {
    serve({ 'GET /api/conversations/7/memories': () => json(200, LIST) });
    panel();
    await vi.waitFor(() => expect($$('[data-testid=memory]').length).toBe(2));
    expect(texts()).toEqual(['My sister is Hana.', 'I grew up by the sea.']);
    expect($$('[data-testid=memory]').map((li) => li.dataset.kind)).toEqual(['note', 'pin']);
    expect($('[data-testid=memory-limits]')!.textContent).toBe('2 of 50 memories · up to 2000 characters each');
    expect($('[data-testid=summary]')!.textContent).toContain('They met at the café and talked about the sea.');
    expect($('[data-testid=summary-meta]')!.textContent).toMatch(/^Version 3 · /);
    expect($('[data-testid=summary-demo]')!.textContent).toBe('This server runs the demo model; its summaries are random text.');
    expect($('[role=dialog]')!.getAttribute('aria-modal')).toBe('true');
    // The first and last memories cannot move further.
    expect(button('Move up', $$('[data-testid=memory]')[0])!.disabled).toBe(true);
    expect(button('Move down', $$('[data-testid=memory]')[1])!.disabled).toBe(true);
  });

  it('has no demo notice for a real model and says when there is no summary yet', async () => {
    serve({ 'GET /api/conversations/7/memories': () => json(200, { ...LIST, items: [], summary: null, demo_model: false }) });
    panel();
    await vi.waitFor(() => expect($('[data-testid=summary]')).not.toBeNull());
    expect($('[data-testid=summary-demo]')).toBeNull();
    expect($('[data-testid=summary]')!.textContent).toContain('No summary yet.');
    expect(root.textContent).toContain('No memories yet.');
  });

  it('adds a note with a live counter; a refused note keeps its text and shows the server’s message', async () => {
    let refuse = true;
    const calls = serve({
      'GET /api/conversations/7/memories': () => json(200, LIST),
      'POST /api/conversations/7/memories': (c) =>
        refuse ? json(400, { error: { code: 'invalid_argument', message: 'a friend keeps at most 50 memories' } }) : json(201, mem(12, 'note', (c.body as { content: string }).content, 2)),
    });
    panel();
    await vi.waitFor(() => expect($('#memory-note')).not.toBeNull());
    const box = $<HTMLTextAreaElement>('#memory-note')!;
    expect(root.querySelector('label[for=memory-note]')!.textContent).toBe('Add a note');
    type(box, 'Loves 🍓 cake');
    await vi.waitFor(() => expect($('#memory-note-left')!.textContent).toBe(`${2000 - 12} characters left`));
    button('Add note')!.click();
    await vi.waitFor(() => expect($('[data-testid=memory-error]')?.textContent).toBe('a friend keeps at most 50 memories'));
    expect(box.value).toBe('Loves 🍓 cake');
    expect($$('[data-testid=memory]').length).toBe(2);
    refuse = false;
    button('Add note')!.click();
    await vi.waitFor(() => expect($$('[data-testid=memory]').length).toBe(3));
    expect(texts()[2]).toBe('Loves 🍓 cake');
    expect($<HTMLTextAreaElement>('#memory-note')!.value).toBe('');
    expect($('[data-testid=memory-error]')).toBeNull();
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ content: 'Loves 🍓 cake' }, { content: 'Loves 🍓 cake' }]);
  });

  it('does not send a note over the character limit', async () => {
    serve({ 'GET /api/conversations/7/memories': () => json(200, { ...LIST, limits: { max_items: 50, max_chars: 10 } }) });
    panel();
    await vi.waitFor(() => expect($('#memory-note')).not.toBeNull());
    type($<HTMLTextAreaElement>('#memory-note')!, 'twelve chars');
    await vi.waitFor(() => expect($('#memory-note-left')!.textContent).toBe('2 characters too many'));
    expect(button('Add note')!.disabled).toBe(true);
  });

  it('edits a memory in place', async () => {
    const calls = serve({
      'GET /api/conversations/7/memories': () => json(200, LIST),
      'PATCH /api/conversations/7/memories/10': (c) => json(200, { ...LIST.items[1], content: (c.body as { content: string }).content, updated_at: 1_700_000_100_000 }),
    });
    panel();
    await vi.waitFor(() => expect($$('[data-testid=memory]').length).toBe(2));
    button('Edit memory', $$('[data-testid=memory]')[0])!.click();
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('mem-edit-10'));
    const box = $<HTMLTextAreaElement>('#mem-edit-10')!;
    expect(box.value).toBe('My sister is Hana.');
    type(box, 'My sister Hana lives in Busan.');
    await vi.waitFor(() => expect($('#mem-edit-10-left')!.textContent).toBe(`${2000 - 30} characters left`));
    button('Save', $$('[data-testid=memory]')[0])!.click();
    await vi.waitFor(() => expect(texts()[0]).toBe('My sister Hana lives in Busan.'));
    expect(calls.at(-1)).toMatchObject({ method: 'PATCH', body: { content: 'My sister Hana lives in Busan.' } });
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('mem-10-edit'));
  });

  it('deletes a memory after confirming; deleting a pin unpins its message', async () => {
    const calls = serve({ 'GET /api/conversations/7/memories': () => json(200, LIST), 'DELETE /api/conversations/7/memories/11': () => json(204) });
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(true);
    const props = panel();
    await vi.waitFor(() => expect($$('[data-testid=memory]').length).toBe(2));
    button('Delete memory', $$('[data-testid=memory]')[1])!.click();
    await vi.waitFor(() => expect($$('[data-testid=memory]').length).toBe(1));
    expect(confirm).toHaveBeenCalledWith('Delete this memory? Mina will no longer be reminded of it.');
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/conversations/7/memories/11' });
    expect(props.onUnpinned).toHaveBeenCalledWith(101);
  });

  it('moves a memory with the up/down buttons, saving the order and keeping focus on it', async () => {
    const calls = serve({
      'GET /api/conversations/7/memories': () => json(200, LIST),
      'PUT /api/conversations/7/memories/order': (c) =>
        json(200, { items: (c.body as { ids: number[] }).ids.map((id, i) => ({ ...LIST.items.find((m) => m.id === id)!, position: i })) }),
    });
    panel();
    await vi.waitFor(() => expect($$('[data-testid=memory]').length).toBe(2));
    button('Move down', $$('[data-testid=memory]')[0])!.click();
    await vi.waitFor(() => expect(texts()).toEqual(['I grew up by the sea.', 'My sister is Hana.']));
    expect(calls.at(-1)).toMatchObject({ method: 'PUT', url: '/api/conversations/7/memories/order', body: { ids: [11, 10] } });
    // At the bottom now, so focus is on its "Move up" button.
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('mem-10-up'));
    await vi.waitFor(() => expect(root.textContent).toContain('Moved to place 2 of 2.'));
  });

  it('puts the order back when the server refuses it', async () => {
    serve({
      'GET /api/conversations/7/memories': () => json(200, LIST),
      'PUT /api/conversations/7/memories/order': () => json(400, { error: { code: 'invalid_argument', message: 'ids must be exactly the memory ids' } }),
    });
    panel();
    await vi.waitFor(() => expect($$('[data-testid=memory]').length).toBe(2));
    button('Move up', $$('[data-testid=memory]')[1])!.click();
    await vi.waitFor(() => expect(toast).toHaveBeenCalledWith('ids must be exactly the memory ids', 'error'));
    expect(texts()).toEqual(['My sister is Hana.', 'I grew up by the sea.']);
  });

  it('edits the summary', async () => {
    const calls = serve({
      'GET /api/conversations/7/memories': () => json(200, LIST),
      'PUT /api/conversations/7/summary': (c) => json(200, { version: 4, content: (c.body as { content: string }).content, covers_until_message_id: 99, edited: true, created_at: 1_700_000_200_000 }),
    });
    panel();
    await vi.waitFor(() => expect(button('Edit summary')).toBeDefined());
    button('Edit summary')!.click();
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('summary-text'));
    type($<HTMLTextAreaElement>('#summary-text')!, 'They are old friends from Busan.');
    await vi.waitFor(() => expect($('#summary-text-left')!.textContent).toBe(`${4000 - 32} characters left`));
    button('Save', $('[data-testid=summary]')!)!.click();
    await vi.waitFor(() => expect($('[data-testid=summary-meta]')!.textContent).toMatch(/^Version 4 · .* · edited by you$/));
    expect($('[data-testid=summary]')!.textContent).toContain('They are old friends from Busan.');
    expect(calls.at(-1)).toMatchObject({ method: 'PUT', url: '/api/conversations/7/summary', body: { content: 'They are old friends from Busan.' } });
  });

  it('opens the inspector and the download from its actions, and closes on Escape', async () => {
    serve({ 'GET /api/conversations/7/memories': () => json(200, LIST) });
    const props = panel();
    await vi.waitFor(() => expect($$('[data-testid=memory]').length).toBe(2));
    button('What Mina remembers')!.click();
    button('Download conversation (JSON)')!.click();
    expect(props.onInspect).toHaveBeenCalledTimes(1);
    expect(props.onExport).toHaveBeenCalledTimes(1);
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(props.onClose).toHaveBeenCalledTimes(1);
  });
});

const PROMPT: PromptView = {
  messages: [
    { role: 'system', content: 'You are Mina, a barista.', section: 'static' },
    { role: 'system', content: 'You are talking with Jun.', section: 'persona' },
    { role: 'system', content: 'My sister is Hana.', section: 'pinned' },
    { role: 'system', content: 'Story so far: they met.', section: 'summary' },
    {
      role: 'system', content: 'Jun: I grew up by the sea.', section: 'recalled',
      source_ids: [{ message_id: 41, conversation_id: 7, created_at: 1_700_000_000_000 }, { message_id: 3, conversation_id: 9, created_at: 1_600_000_000_000 }],
    },
    { role: 'assistant', content: 'Hey you!', section: 'history' },
    { role: 'user', content: 'Hi Mina', section: 'history' },
    { role: 'user', content: 'what about Hana?', section: 'draft' },
    { role: 'system', content: 'Extra', section: 'future_part' },
  ],
  n_tokens: 812,
  n_ctx: 4096,
  sections: { static: 300, persona: 20, pinned: 12, summary: 10, recalled: 15, lorebook: 0, history: 400, post_history: 0, draft: 55, future_part: 0 },
};

describe('prompt inspector', () => {
  it('groups the messages by section in prompt order, keeping counts of empty sections', () => {
    const blocks = promptBlocks(PROMPT);
    expect(blocks.map((b) => b.name)).toEqual(['static', 'persona', 'pinned', 'summary', 'recalled', 'lorebook', 'history', 'post_history', 'draft', 'future_part']);
    expect(blocks.find((b) => b.name === 'history')!.messages.length).toBe(2);
    expect(blocks.find((b) => b.name === 'lorebook')).toEqual({ name: 'lorebook', tokens: 0, messages: [] });
    expect(promptBlocks({ messages: [{ role: 'user', content: 'x', section: 'draft' }], n_tokens: 1, n_ctx: 8, sections: {} }).map((b) => b.name)).toEqual(['draft']);
  });

  it('asks with the composer text and shows each section, its tokens, the total and the recalled sources', async () => {
    const calls = serve({ 'GET /api/conversations/7/prompt': () => json(200, PROMPT) });
    const onJump = vi.fn();
    const isLoaded = (mid: unknown, conv: unknown) => String(mid) === '41' && String(conv) === '7';
    mount(<PromptInspector conversationId={7} name="Mina" draft="what about Hana?" isLoaded={isLoaded} onJump={onJump} onClose={() => {}} />);
    await vi.waitFor(() => expect($('[data-testid=prompt-total]')).not.toBeNull());
    expect(calls[0].url).toBe('/api/conversations/7/prompt?draft=what%20about%20Hana%3F');
    expect($('[role=dialog]')!.textContent).toContain('What Mina remembers');
    expect($('[data-testid=prompt-total]')!.textContent).toBe('812 of 4096 tokens (20%)');
    const pinned = $<HTMLDetailsElement>('details[data-section=pinned]')!;
    expect(pinned.open).toBe(true);
    expect(pinned.querySelector('summary')!.textContent).toBe('Pinned memories12 tokens');
    expect(pinned.textContent).toContain('My sister is Hana.');
    const history = $<HTMLDetailsElement>('details[data-section=history]')!;
    expect(history.open).toBe(false);
    expect(history.querySelector('summary')!.textContent).toBe('Recent messages400 tokens');
    expect([...history.querySelectorAll('.pi-role')].map((r) => r.textContent)).toEqual(['Mina', 'You']);
    expect($('details[data-section=lorebook]')!.textContent).toContain('Nothing in this part.');
    expect($('details[data-section=future_part] summary')!.textContent).toBe('future_part0 tokens');
    // A source in the loaded chat is a link to it; another is shown by its date.
    const recalled = $('details[data-section=recalled]')!;
    expect(recalled.querySelectorAll('[data-testid=source-link]').length).toBe(1);
    expect(recalled.querySelector('[data-testid=source-date]')!.textContent).toContain('(not loaded)');
    (recalled.querySelector('[data-testid=source-link]') as HTMLButtonElement).click();
    expect(onJump).toHaveBeenCalledWith(41);
  });

  it('shows the server’s error', async () => {
    serve({ 'GET /api/conversations/7/prompt': () => json(503, { error: { code: 'unavailable', message: 'no model is configured' } }) });
    mount(<PromptInspector conversationId={7} name="Mina" draft="" isLoaded={() => false} onJump={() => {}} onClose={() => {}} />);
    await vi.waitFor(() => expect($('[role=alert]')?.textContent).toBe('no model is configured'));
  });
});

describe('untrusted memory and prompt text', () => {
  it('renders notes, summaries and prompt text literally', async () => {
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    serve({
      'GET /api/conversations/7/memories': () => json(200, { ...LIST, items: [mem(1, 'note', evil, 0)], summary: { ...LIST.summary!, content: evil } }),
      'GET /api/conversations/7/prompt': () => json(200, { messages: [{ role: 'system', content: evil, section: 'pinned' }], n_tokens: 9, n_ctx: 100, sections: { pinned: 9 } }),
    });
    panel();
    await vi.waitFor(() => expect(texts()).toEqual([evil]));
    expect($('[data-testid=summary]')!.textContent).toContain(evil);
    render(null, root);
    mount(<PromptInspector conversationId={7} name="Mina" draft="" isLoaded={() => false} onJump={() => {}} onClose={() => {}} />);
    await vi.waitFor(() => expect($('details[data-section=pinned]')?.textContent).toContain(evil));
    expect(document.querySelectorAll('img, script').length).toBe(0);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });
});

describe('memory in the chat', () => {
  const msg = (id: number, role: 'user' | 'assistant', content: string, over: Partial<Message> = {}): Message => ({
    id, conversation_id: 7, role, content, status: 'complete', parent_id: id === 1 ? null : id - 1, alternative_index: 0, alternatives: 1, rating: 0, finish_reason: 'stop', created_at: 1_700_000_000_000, ...over,
  });
  function chatServer(pinned: boolean) {
    const state = { pinned, forgotten: false };
    const calls = serve({
      'GET /api/conversations/7': () => json(200, { id: 7, character_id: 3, character: { id: 3, name: 'Mina', tagline: 'barista', avatar_url: null, real_person: false, language: 'en' }, created_at: 1, updated_at: 1, last_message: null }),
      'GET /api/conversations/7/messages': () =>
        json(200, { items: [msg(1, 'assistant', 'Hey you!', { pinned: state.pinned, forgotten: state.forgotten }), msg(2, 'user', 'Hi Mina')], next_cursor: null }),
      'POST /api/conversations/7/memories': () => {
        state.pinned = true;
        return json(201, mem(20, 'pin', 'Hey you!', 0, 1));
      },
      'GET /api/conversations/7/memories': () => json(200, { ...LIST, items: state.pinned ? [mem(10, 'note', 'n', 0), mem(20, 'pin', 'Hey you!', 1, 1)] : [] }),
      'DELETE /api/conversations/7/memories/20': () => {
        state.pinned = false;
        return json(204);
      },
      'POST /api/conversations/7/messages/1/forget': () => {
        state.forgotten = true;
        return json(204);
      },
    });
    return calls;
  }
  const first = () => $$('[data-testid=message]')[0];
  async function openMenu() {
    await vi.waitFor(() => expect(first()).toBeDefined());
    button('Message actions', first())!.click();
    await vi.waitFor(() => expect(first().querySelector('.msg-menu')).not.toBeNull());
  }

  it('pins a message from its menu and unpins it by finding its pin', async () => {
    const calls = chatServer(false);
    mount(<ChatScreen id="7" />);
    await openMenu();
    expect(first().querySelector('[data-testid=pin-mark]')).toBeNull();
    button('Pin as memory', first())!.click();
    await vi.waitFor(() => expect(first().querySelector('[data-testid=pin-mark]')).not.toBeNull());
    expect(first().querySelector('[data-testid=pin-mark]')!.getAttribute('aria-label')).toBe('Pinned as a memory');
    expect(calls.find((c) => c.method === 'POST' && c.url.endsWith('/memories'))!.body).toEqual({ message_id: 1 });
    expect(toast).toHaveBeenCalledWith('Pinned: Mina will remember it.');
    expect(document.activeElement).toBe(button('Message actions', first()));
    await openMenu();
    button('Unpin', first())!.click();
    await vi.waitFor(() => expect(first().querySelector('[data-testid=pin-mark]')).toBeNull());
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/conversations/7/memories/20' });
  });

  it('forgets a message after explaining it stays in the chat', async () => {
    const calls = chatServer(false);
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(true);
    mount(<ChatScreen id="7" />);
    await openMenu();
    const forget = button('Forget', first())!;
    expect(forget.title).toBe('Mina will never recall this message again; it stays in the chat.');
    forget.click();
    await vi.waitFor(() => expect(first().querySelector('[data-testid=forgotten-mark]')).not.toBeNull());
    expect(confirm).toHaveBeenCalledWith('Forget this message? Mina will never recall it again; it stays in the chat.');
    expect(calls.at(-1)).toMatchObject({ method: 'POST', url: '/api/conversations/7/messages/1/forget' });
    expect($$('[data-testid=message]').length).toBe(2);
  });

  it('opens the Memories panel from the header and the inspector from there', async () => {
    chatServer(true);
    mount(<ChatScreen id="7" />);
    await vi.waitFor(() => expect(first()?.querySelector('[data-testid=pin-mark]')).not.toBeNull());
    await vi.waitFor(() => expect(button('Memories of Mina')).toBeDefined());
    button('Memories of Mina')!.click();
    await vi.waitFor(() => expect($$('[data-testid=memory]').length).toBe(2));
    // "Show in chat" is offered for a pin whose message is loaded.
    expect(button('Show in chat')).toBeDefined();
    serve({ 'GET /api/conversations/7/prompt': () => json(200, PROMPT) });
    button('What Mina remembers', $('[data-testid=memories-panel]')!)!.click();
    await vi.waitFor(() => expect($('[data-testid=prompt-inspector]')).not.toBeNull());
    expect($('[data-testid=memories-panel]')).toBeNull();
  });
});
