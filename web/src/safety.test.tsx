// The user-safety UI: the report dialog, read-only chats, and refused replies (429).
import { render } from 'preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type Conversation, type Message, type User } from './api';
import { errorText } from './components/common';
import { ReportDialog } from './components/report';
import { ChatScreen } from './screens/chat';
import { setLang } from './i18n';
import { Ctx, type AppCtx } from './state';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

let root: HTMLElement;
let toast: ReturnType<typeof vi.fn>;
const me: User = { id: 1, username: 'jun', display_name: 'Jun', persona: '', role: 'user', adult_confirmed: false };

function mount(node: preact.ComponentChildren) {
  const ctx: AppCtx = { user: me, setUser: () => {}, server: null, toast: toast as unknown as AppCtx['toast'] };
  render(<Ctx.Provider value={ctx}>{node}</Ctx.Provider>, root);
}
const $ = <T extends Element = HTMLElement>(sel: string) => root.querySelector<T>(sel);
function type(el: HTMLInputElement | HTMLTextAreaElement, value: string) {
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}
function pick(label: string) {
  const l = [...root.querySelectorAll('label')].find((x) => x.textContent?.trim() === label);
  if (!l) throw new Error(`no label ${label}`);
  const input = l.querySelector('input')!;
  input.click();
}

beforeEach(() => {
  setLang('en');
  toast = vi.fn();
  root = document.createElement('div');
  document.body.appendChild(root);
});
afterEach(() => {
  render(null, root);
  document.body.innerHTML = '';
  vi.unstubAllGlobals();
});

describe('report dialog', () => {
  it('needs a reason, sends it with the note, thanks the user and closes', async () => {
    const f = vi.fn(async (_url: string, _init: RequestInit) => json(201, { report: { id: 11 } }));
    vi.stubGlobal('fetch', f);
    const onClose = vi.fn();
    mount(<ReportDialog target={{ kind: 'character', id: 42, name: 'Mina' }} onClose={onClose} />);
    await vi.waitFor(() => expect($('[role=dialog]')).not.toBeNull());
    expect($('#modal-title')!.textContent).toBe('Report Mina');
    expect($('[role=dialog]')!.getAttribute('aria-modal')).toBe('true');
    const submit = $<HTMLButtonElement>('button[type=submit]')!;
    expect(submit.disabled).toBe(true);
    expect(root.querySelectorAll('input[type=radio]').length).toBe(8);
    pick('Spam or scam');
    type($<HTMLTextAreaElement>('#report-note')!, 'Links to a scam site');
    await vi.waitFor(() => expect(submit.disabled).toBe(false));
    expect($('#report-note-left')!.textContent).toBe(`${1000 - 'Links to a scam site'.length} characters left`);
    submit.click();
    await vi.waitFor(() => expect(onClose).toHaveBeenCalled());
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('/api/reports');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(JSON.parse(String(init.body))).toEqual({ target_kind: 'character', target_id: 42, reason: 'spam', note: 'Links to a scam site' });
    expect(toast).toHaveBeenCalledWith('Thanks — your report was sent to the moderators.');
  });

  it('says "already reported" on 409 and closes', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(409, { error: { code: 'already_exists', message: 'already reported' } })));
    const onClose = vi.fn();
    mount(<ReportDialog target={{ kind: 'message', id: 9, name: 'Mina' }} onClose={onClose} />);
    await vi.waitFor(() => expect($('[role=dialog]')).not.toBeNull());
    expect($('#modal-title')!.textContent).toBe('Report a message from Mina');
    pick('Hate speech');
    await vi.waitFor(() => expect($<HTMLButtonElement>('button[type=submit]')!.disabled).toBe(false));
    $<HTMLButtonElement>('button[type=submit]')!.click();
    await vi.waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(toast).toHaveBeenCalledWith('You have already reported this.');
  });

  it('shows other errors inside the dialog and stays open; Escape closes it', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(400, { error: { code: 'invalid_argument', message: 'note is too long' } })));
    const onClose = vi.fn();
    mount(<ReportDialog target={{ kind: 'character', id: 1, name: 'A' }} onClose={onClose} />);
    await vi.waitFor(() => expect($('[role=dialog]')).not.toBeNull());
    pick('Something else');
    await vi.waitFor(() => expect($<HTMLButtonElement>('button[type=submit]')!.disabled).toBe(false));
    $<HTMLButtonElement>('button[type=submit]')!.click();
    await vi.waitFor(() => expect($('[role=alert]')?.textContent).toBe('note is too long'));
    expect(onClose).not.toHaveBeenCalled();
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(onClose).toHaveBeenCalled();
  });
});

const greeting: Message = {
  id: 100, conversation_id: 5, role: 'assistant', content: 'Hello there!', status: 'complete', parent_id: null,
  alternative_index: 0, alternatives: 1, rating: 0, finish_reason: 'greeting', created_at: 1,
};
const reply: Message = { ...greeting, id: 102, parent_id: 101, content: 'Nice to see you.', finish_reason: 'stop' };
const userMsg: Message = { ...greeting, id: 101, role: 'user', parent_id: 100, content: 'Hi!' };

function conv(over: Partial<Conversation> = {}): Conversation {
  return {
    id: 5, character_id: 7, created_at: 1, updated_at: 1, last_message: null,
    character: { id: 7, name: 'Mina', tagline: 'Barista', avatar_url: '/api/characters/7/avatar', real_person: false, language: 'en' },
    read_only: false, read_only_reason: null, ...over,
  };
}

function chatServer(c: Conversation, onSend?: () => Response) {
  const f = vi.fn(async (url: string, init: RequestInit) => {
    if (url === '/api/conversations/5' && (init.method || 'GET') === 'GET') return json(200, c);
    if (url.startsWith('/api/conversations/5/messages?')) return json(200, { items: [greeting, userMsg, reply], next_cursor: null });
    if (url === '/api/conversations/5/messages' && init.method === 'POST' && onSend) return onSend();
    return json(404, { error: { code: 'not_found', message: 'no route' } });
  });
  vi.stubGlobal('fetch', f);
  return f;
}

describe('chat: read-only conversations', () => {
  it('a removed character: banner, placeholder avatar, "(removed)", composer and regenerate disabled, history readable', async () => {
    chatServer(conv({ read_only: true, read_only_reason: 'character_removed', character: { ...conv().character, removed: true } }));
    mount(<ChatScreen id="5" />);
    await vi.waitFor(() => expect($('[data-testid=read-only-banner]')).not.toBeNull());
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid=message]').length).toBe(3));
    expect($('[data-testid=read-only-banner]')!.textContent).toBe('Mina (removed) is no longer available; you can still read your conversation.');
    expect($('.chat-name')!.textContent).toBe('Mina (removed)');
    expect($('a.chat-who')).toBeNull(); // no link to a profile that is gone
    expect(root.querySelectorAll('[data-testid=removed-avatar]').length).toBeGreaterThanOrEqual(2); // header and messages
    expect(root.querySelector('img.avatar')).toBeNull();
    const box = $<HTMLTextAreaElement>('#composer-input')!;
    expect(box.disabled).toBe(true);
    expect(box.placeholder).toBe('This conversation is read-only');
    expect($<HTMLButtonElement>('.composer button[type=submit]')!.disabled).toBe(true);
    expect($<HTMLButtonElement>('button[aria-label=Regenerate]')!.disabled).toBe(true);
    expect($<HTMLButtonElement>('button[aria-label=Continue]')!.disabled).toBe(true);
    expect(root.textContent).toContain('Nice to see you.');
  });

  it('a hidden character keeps its name and avatar but is read-only; the message menu offers Report', async () => {
    chatServer(conv({ read_only: true, read_only_reason: 'character_hidden' }));
    mount(<ChatScreen id="5" />);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid=message]').length).toBe(3));
    await vi.waitFor(() => expect($('[data-testid=read-only-banner]')?.textContent).toBe('Mina is no longer available; you can still read your conversation.'));
    expect($('a.chat-who')).not.toBeNull();
    expect($<HTMLTextAreaElement>('#composer-input')!.disabled).toBe(true);
    const last = [...root.querySelectorAll('[data-testid=message]')].at(-1)!;
    last.querySelector<HTMLButtonElement>('button[aria-label="Message actions"]')!.click();
    await vi.waitFor(() => expect(last.querySelector('button[aria-label="Report this message"]')).not.toBeNull());
    expect(last.querySelector<HTMLButtonElement>('.msg-menu button')!.disabled).toBe(true); // Edit
    last.querySelector<HTMLButtonElement>('button[aria-label="Report this message"]')!.click();
    await vi.waitFor(() => expect($('#modal-title')?.textContent).toBe('Report a message from Mina'));
    // The user's own messages cannot be reported.
    const mine = root.querySelector('[data-testid=message].msg-user')!;
    mine.querySelector<HTMLButtonElement>('button[aria-label="Message actions"]')!.click();
    await vi.waitFor(() => expect(mine.querySelector('.msg-menu')).not.toBeNull());
    expect(mine.querySelector('button[aria-label="Report this message"]')).toBeNull();
  });

  it('a writable conversation has no banner and an enabled composer', async () => {
    chatServer(conv());
    mount(<ChatScreen id="5" />);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid=message]').length).toBe(3));
    await vi.waitFor(() => expect($('.chat-name')?.textContent).toBe('Mina'));
    expect($('[data-testid=read-only-banner]')).toBeNull();
    expect($<HTMLTextAreaElement>('#composer-input')!.disabled).toBe(false);
  });
});

describe('chat: a refused reply (429)', () => {
  it("shows the server's message and when to retry in the error line, and gives the text back", async () => {
    chatServer(conv(), () => json(429, { error: { code: 'resource_exhausted', message: 'You have used today’s 200 messages.' } }, { 'Retry-After': '3600' }));
    mount(<ChatScreen id="5" />);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid=message]').length).toBe(3));
    const box = $<HTMLTextAreaElement>('#composer-input')!;
    type(box, 'One more?');
    await vi.waitFor(() => expect($<HTMLButtonElement>('.composer button[type=submit]')!.disabled).toBe(false));
    $<HTMLFormElement>('form.composer')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect($('[data-testid=chat-error]')?.textContent).toBe('You have used today’s 200 messages. Try again in 3600 s.'));
    expect($('[data-testid=chat-error]')!.getAttribute('role')).toBe('alert');
    await vi.waitFor(() => expect($<HTMLTextAreaElement>('#composer-input')!.value).toBe('One more?'));
    expect(root.querySelectorAll('[data-testid=message]').length).toBe(3); // the unsent message is not left behind
    expect(toast).not.toHaveBeenCalled();
    expect($<HTMLTextAreaElement>('#composer-input')!.disabled).toBe(false);
  });
});

describe('error text for the editor, import and chat', () => {
  it("is the server's message, with the wait for a 429 that says Retry-After", () => {
    expect(errorText(new ApiError(400, 'invalid_argument', 'the content policy does not allow this text (rule 3: term "x")'))).toBe('the content policy does not allow this text (rule 3: term "x")');
    expect(errorText(new ApiError(429, 'resource_exhausted', 'you can create 200 characters at most', 3600))).toBe('you can create 200 characters at most Try again in 3600 s.');
    expect(errorText(new ApiError(429, 'resource_exhausted', 'too many replies at once'))).toBe('too many replies at once');
    expect(errorText(new TypeError('boom'))).toBe('Something went wrong.');
    setLang('ko');
    expect(errorText(new ApiError(429, 'resource_exhausted', 'limit', 5))).toBe('limit 5초 후에 다시 시도해 주세요.');
  });
});
