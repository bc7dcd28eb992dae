// Chat with one friend: streamed replies (token by token, typing indicator), stop,
// regenerate, alternatives ‹ i/n › (also for greetings), continue, edit, delete, rating,
// and resuming a dropped stream with Last-Event-ID. A conversation whose character is gone
// (removed, hidden, made private) is read-only: history stays, the composer is disabled.
// Memory: pin / unpin / forget from a message's menu, the Memories panel, the prompt
// inspector ("What <name> remembers") and the JSON download.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, enc, isRemoved, memory, pinOf, request, streamRequest, type Conversation, type Id, type Message } from '../api';
import type { SseEvent } from '../sse';
import { runResumableStream } from '../stream';
import { Avatar, errorText, PortrayalBadge, Spinner } from '../components/common';
import { MessageRow, Typing } from '../components/message-row';
import { Icon } from '../components/icons';
import { t } from '../i18n';
import { useApp } from '../state';
import { ReportDialog, type ReportTarget } from '../components/report';
import { MemoriesPanel, saveBlob } from '../components/memories';
import { PromptInspector } from '../components/inspector';

const MAX_RESUMES = 5;

type Op = 'send' | 'regenerate' | 'continue';

export function ChatScreen({ id }: { id: string }) {
  const { toast, user } = useApp();
  const [conv, setConv] = useState<Conversation | null>(null);
  const [msgs, setMsgs] = useState<Message[] | null>(null);
  const [older, setOlder] = useState<string | null>(null);
  const [streamingId, setStreamingId] = useState<Id | null>(null);
  const [busy, setBusy] = useState(false);
  const [reconnecting, setReconnecting] = useState(false);
  const [text, setText] = useState('');
  const [menuFor, setMenuFor] = useState<Id | null>(null);
  const [editing, setEditing] = useState<{ id: Id; text: string } | null>(null);
  const [chatError, setChatError] = useState('');
  const [reporting, setReporting] = useState<ReportTarget | null>(null);
  const [panel, setPanel] = useState<'memories' | 'inspector' | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const stickBottom = useRef(true);
  const abortRef = useRef<AbortController | null>(null);
  const stopRequested = useRef(false);
  const base = `/api/conversations/${enc(id)}`;

  const fail = (e: unknown) => {
    if ((e as Error)?.name === 'AbortError') return;
    toast(e instanceof ApiError ? e.message : t('error_generic'), 'error');
  };

  // Bumped whenever a stream starts, so that a list fetched before it cannot overwrite it.
  const epoch = useRef(0);
  const shown = useRef(0);
  shown.current = msgs ? msgs.length : 0;
  // Numbers each list fetch: only the newest one may be shown, so an answer that arrives late
  // (e.g. one started by a background event before an alternative was selected) cannot undo it.
  const reloadSeq = useRef(0);
  async function reload() {
    const e = epoch.current;
    const seq = ++reloadSeq.current;
    // Keep as many messages as are on screen (older pages the reader loaded stay loaded).
    const limit = Math.min(500, Math.max(50, shown.current + 2));
    const r = await api<{ items: Message[]; next_cursor: string | null }>('GET', `${base}/messages?limit=${limit}`);
    if (e !== epoch.current || seq !== reloadSeq.current || abortRef.current) return;
    setMsgs(r.items);
    setOlder(r.next_cursor);
  }

  useEffect(() => {
    api<Conversation>('GET', base).then(setConv).catch(fail);
    reload().catch((e) => {
      setMsgs([]);
      fail(e);
    });
    const onEv = (e: Event) => {
      const d = (e as CustomEvent).detail;
      if (d && String(d.conversation_id) === String(id) && !abortRef.current) reload().catch(() => {});
    };
    window.addEventListener('tokki:event', onEv);
    return () => {
      window.removeEventListener('tokki:event', onEv);
      abortRef.current?.abort();
    };
  }, [id]);

  // Keep the view pinned to the newest message unless the reader scrolled up.
  useLayoutEffect(() => {
    const el = listRef.current;
    if (el && stickBottom.current) el.scrollTop = el.scrollHeight;
  }, [msgs]);
  const onScroll = () => {
    const el = listRef.current;
    if (el) stickBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };

  const patch = (mid: Id, f: (m: Message) => Message) => setMsgs((ms) => (ms ? ms.map((m) => (String(m.id) === String(mid) ? f(m) : m)) : ms));

  /** Runs one SSE operation to its end, resuming with Last-Event-ID if the connection drops. */
  async function runStream(op: Op, open: (signal: AbortSignal) => Promise<Response>, target?: Message, tempId?: string, draft?: string) {
    const ctrl = new AbortController();
    abortRef.current = ctrl;
    epoch.current++;
    stopRequested.current = false;
    stickBottom.current = true;
    setChatError('');
    setBusy(true);
    let replyId: Id | null = null;
    let userStored = false;
    const onEvent = (ev: SseEvent) => {
      let data: any = {};
      try {
        data = ev.data ? JSON.parse(ev.data) : {};
      } catch {
        return;
      }
      if (ev.event === 'message' && tempId) {
        userStored = true;
        setMsgs((ms) => (ms ? ms.map((m) => (m.id === tempId ? { ...m, ...data } : m)) : ms));
      } else if (ev.event === 'reply') {
        replyId = data.id;
        setStreamingId(data.id);
        if (op === 'continue') {
          patch(target!.id, (m) => ({ ...m, status: 'streaming' }));
        } else {
          const placeholder: Message = {
            conversation_id: id, role: 'assistant', content: '', parent_id: target?.parent_id ?? null, rating: 0, finish_reason: '', created_at: Date.now(),
            alternative_index: target ? target.alternatives : 0, alternatives: target ? target.alternatives + 1 : 1,
            ...data, status: 'streaming',
          };
          // A new alternative counts itself among the alternatives whatever the reply row says.
          if (target) placeholder.alternatives = Math.max(placeholder.alternatives ?? 0, target.alternatives + 1, (placeholder.alternative_index ?? 0) + 1);
          if (op === 'regenerate' && target) setMsgs((ms) => (ms ? ms.map((m) => (m.id === target.id ? placeholder : m)) : ms));
          else setMsgs((ms) => [...(ms || []), placeholder]);
        }
      } else if (ev.event === 'token' && replyId !== null) {
        const piece = typeof data.text === 'string' ? data.text : '';
        patch(replyId, (m) => ({ ...m, content: m.content + piece }));
      } else if (ev.event === 'done' && replyId !== null) {
        patch(replyId, (m) => ({ ...m, status: data.finish_reason === 'stopped' || data.finish_reason === 'cancelled' || stopRequested.current ? 'stopped' : 'complete', finish_reason: data.finish_reason || '' }));
      } else if (ev.event === 'error') {
        if (replyId !== null) patch(replyId, (m) => ({ ...m, status: 'failed' }));
        if (data.code === 'resource_exhausted') setChatError(data.message || t('error_generic'));
        else toast(data.message || t('error_generic'), 'error');
      }
    };
    try {
      await runResumableStream({
        open,
        resume: (mid, lastId, signal) => {
          const headers: Record<string, string> = { Accept: 'text/event-stream' };
          if (lastId !== null) headers['Last-Event-ID'] = lastId;
          return request('GET', `${base}/messages/${enc(mid)}/stream`, undefined, { headers, signal });
        },
        onEvent,
        signal: ctrl.signal,
        stopped: () => stopRequested.current,
        onReconnecting: setReconnecting,
        maxResumes: MAX_RESUMES,
      });
    } catch (e) {
      if (replyId !== null && !stopRequested.current) patch(replyId, (m) => ({ ...m, status: 'failed' }));
      if (tempId && !userStored) {
        // The message was not stored: take it off the list and give the text back.
        setMsgs((ms) => (ms ? ms.filter((m) => m.id !== tempId) : ms));
        if (draft) setText((cur) => cur || draft);
      }
      // Too many replies at once or the daily quota: say so under the chat, not as a crash.
      if (e instanceof ApiError && e.status === 429) setChatError(errorText(e));
      else fail(e);
    } finally {
      abortRef.current = null;
      epoch.current++;
      setReconnecting(false);
      setStreamingId(null);
      setBusy(false);
      // Sync counts (alternatives, statuses) with what the server stored.
      reload().catch(() => {});
    }
  }

  function send(e?: Event) {
    e?.preventDefault();
    const content = text.trim();
    if (!content || busy || readOnly) return;
    const clientId = `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const temp: Message = { id: clientId, conversation_id: id, role: 'user', content, status: 'complete', parent_id: null, alternative_index: 0, alternatives: 1, rating: 0, finish_reason: '', created_at: Date.now() };
    setMsgs((ms) => [...(ms || []), temp]);
    setText('');
    runStream('send', (signal) => streamRequest('POST', `${base}/messages`, { content, client_id: clientId }, { signal }), undefined, clientId, content);
  }

  const regenerate = (m: Message) => runStream('regenerate', (signal) => streamRequest('POST', `${base}/messages/${enc(m.id)}/regenerate`, {}, { signal }), m);
  const cont = (m: Message) => runStream('continue', (signal) => streamRequest('POST', `${base}/messages/${enc(m.id)}/continue`, {}, { signal }), m);

  async function stop() {
    stopRequested.current = true;
    try {
      await api('POST', `${base}/stop`);
    } catch (e) {
      fail(e);
    }
    // If the server does not close the stream promptly, stop reading it.
    const ctrl = abortRef.current;
    setTimeout(() => {
      if (ctrl && abortRef.current === ctrl) ctrl.abort();
    }, 3000);
  }

  async function selectAlt(m: Message, delta: number) {
    const k = m.alternative_index + delta;
    if (k < 0 || k >= m.alternatives || busy) return;
    try {
      await api('POST', `${base}/messages/${enc(m.id)}/select`, { alternative: k });
      await reload();
    } catch (e) {
      fail(e);
    }
  }

  async function rate(m: Message, stars: number) {
    const value = m.rating === stars ? 0 : stars;
    patch(m.id, (x) => ({ ...x, rating: value }));
    try {
      const r = await api<Message>('POST', `${base}/messages/${enc(m.id)}/rating`, { stars: value });
      patch(m.id, (x) => ({ ...x, rating: r?.rating ?? value }));
    } catch (e) {
      patch(m.id, (x) => ({ ...x, rating: m.rating }));
      fail(e);
    }
  }

  async function saveEdit() {
    if (!editing) return;
    try {
      const r = await api<Message>('PATCH', `${base}/messages/${enc(editing.id)}`, { content: editing.text });
      patch(editing.id, (x) => ({ ...x, content: r?.content ?? editing.text }));
      setEditing(null);
    } catch (e) {
      fail(e);
    }
  }

  async function remove(m: Message) {
    if (!window.confirm(t('confirm_delete_message'))) return;
    try {
      await api('DELETE', `${base}/messages/${enc(m.id)}`);
      setMenuFor(null);
      await reload();
    } catch (e) {
      fail(e);
    }
  }

  /** Closes a message's menu, keeping focus on its actions button (the pressed item goes away). */
  function closeMenu(mid: Id) {
    setMenuFor(null);
    document.getElementById(`msg-${mid}`)?.querySelector<HTMLElement>('.msg-more')?.focus();
  }

  async function togglePin(m: Message) {
    closeMenu(m.id);
    try {
      if (m.pinned) {
        // The pin is found by its message in the relationship's memories.
        const pin = pinOf((await memory.list(id)).items, m.id);
        if (pin) await memory.remove(id, pin.id);
        patch(m.id, (x) => ({ ...x, pinned: false }));
        toast(t('unpinned_done'));
      } else {
        try {
          await memory.pin(id, m.id);
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
        }
        patch(m.id, (x) => ({ ...x, pinned: true }));
        toast(t('pinned_done', { name }));
      }
    } catch (e) {
      fail(e);
    }
  }

  async function forget(m: Message) {
    if (!window.confirm(t('confirm_forget', { name }))) return;
    closeMenu(m.id);
    try {
      await memory.forget(id, m.id);
      patch(m.id, (x) => ({ ...x, forgotten: true }));
      toast(t('forgotten_done'));
    } catch (e) {
      fail(e);
    }
  }

  async function exportConversation() {
    try {
      const { blob, filename } = await memory.exportFile(id);
      saveBlob(blob, filename);
      toast(t('export_done'));
    } catch (e) {
      fail(e);
    }
  }

  const isLoaded = (mid: Id, convId: Id = id) => String(convId) === String(id) && !!msgs?.some((m) => String(m.id) === String(mid));
  /** Closes any panel and brings a loaded message into view, with focus. */
  function jumpTo(mid: Id) {
    setPanel(null);
    stickBottom.current = false;
    setTimeout(() => {
      const el = document.getElementById(`msg-${mid}`);
      if (!el) return;
      el.scrollIntoView?.({ block: 'center', behavior: 'smooth' });
      el.focus({ preventScroll: true });
      el.classList.add('msg-flash');
      setTimeout(() => el.classList.remove('msg-flash'), 1600);
    }, 30);
  }

  async function loadOlder() {
    if (!older) return;
    try {
      const r = await api<{ items: Message[]; next_cursor: string | null }>('GET', `${base}/messages?limit=50&cursor=${encodeURIComponent(older)}`);
      stickBottom.current = false;
      setMsgs((ms) => [...r.items, ...(ms || [])]);
      setOlder(r.next_cursor);
    } catch (e) {
      fail(e);
    }
  }

  const ch = conv?.character;
  const readOnly = !!conv?.read_only;
  const removed = isRemoved(conv);
  const name = ch?.name || '';
  const shownName = removed ? (name ? t('removed_name', { name }) : t('removed_character')) : name;
  const list = msgs || [];
  let lastAssistant = -1;
  list.forEach((m, i) => {
    if (m.role === 'assistant') lastAssistant = i;
  });
  const waitingFirstToken = busy && streamingId === null;

  return (
    <section class="chat" aria-label={name || t('loading')}>
      <header class="chat-head">
        <a class="icon-btn" href="#/friends" aria-label={t('back')} title={t('back')}>
          <Icon name="back" />
        </a>
        {removed && (
          <div class="chat-who">
            <Avatar name={name} removed size={40} />
            <span class="chat-who-text">
              <span class="chat-name">{shownName}</span>
            </span>
          </div>
        )}
        {ch && !removed && (
          <a class="chat-who" href={`#/character/${enc(ch.id)}`}>
            <Avatar name={ch.name} url={ch.avatar_url} size={40} />
            <span class="chat-who-text">
              <span class="chat-name">{ch.name}</span>
              {ch.real_person ? <PortrayalBadge compact /> : ch.tagline && <span class="chat-tagline">{ch.tagline}</span>}
            </span>
          </a>
        )}
        <span class="chat-head-tools">
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => setPanel('memories')} aria-label={t('memories_open', { name })} title={t('memories_open', { name })} data-testid="open-memories">
            <Icon name="memory" size={18} />
            <span class="hide-narrow">{t('memories')}</span>
          </button>
          <button type="button" class="icon-btn" onClick={() => setPanel('inspector')} aria-label={t('inspector_open', { name })} title={t('inspector_open', { name })}>
            <Icon name="eye" />
          </button>
        </span>
      </header>
      {readOnly && (
        <div class="chat-readonly" role="status" data-testid="read-only-banner">
          <Icon name="lock" size={18} />
          <span>{t('read_only_banner', { name: shownName })}</span>
        </div>
      )}
      <div class="chat-list" ref={listRef} onScroll={onScroll} role="log" aria-live="polite" aria-relevant="additions text" aria-busy={busy}>
        {msgs === null && <Spinner />}
        {older && (
          <button class="btn btn-ghost load-older" onClick={loadOlder}>
            {t('load_older')}
          </button>
        )}
        {list.map((m, i) => (
          <MessageRow
            key={String(m.id)}
            m={m}
            name={name}
            userName={user?.display_name || user?.username || ''}
            avatar={ch?.avatar_url ?? null}
            removed={removed}
            readOnly={readOnly}
            isFirst={i === 0 && !older}
            isLastAssistant={i === lastAssistant}
            busy={busy}
            menuOpen={menuFor === m.id}
            editing={editing && editing.id === m.id ? editing.text : null}
            onMenu={() => setMenuFor((x) => (x === m.id ? null : m.id))}
            onAlt={(d) => selectAlt(m, d)}
            onRegenerate={() => regenerate(m)}
            onContinue={() => cont(m)}
            onRate={(s) => rate(m, s)}
            onEdit={() => setEditing({ id: m.id, text: m.content })}
            onEditText={(s) => setEditing({ id: m.id, text: s })}
            onEditSave={saveEdit}
            onEditCancel={() => setEditing(null)}
            onDelete={() => remove(m)}
            onReport={() => {
              setMenuFor(null);
              setReporting({ kind: 'message', id: m.id, name: shownName });
            }}
            onPin={() => togglePin(m)}
            onForget={() => forget(m)}
          />
        ))}
        {waitingFirstToken && <Typing name={name} avatar={ch?.avatar_url ?? null} />}
        {reconnecting && (
          <p class="chat-note" role="status">
            {t('reconnecting')}
          </p>
        )}
      </div>
      {chatError && (
        <p class="chat-error" role="alert" data-testid="chat-error">
          {chatError}
        </p>
      )}
      <form class={`composer${readOnly ? ' read-only' : ''}`} onSubmit={send}>
        <label class="sr-only" for="composer-input">
          {readOnly ? t('read_only_composer') : t('message_placeholder', { name })}
        </label>
        <textarea
          id="composer-input"
          rows={1}
          value={text}
          disabled={readOnly}
          placeholder={readOnly ? t('read_only_composer') : t('message_placeholder', { name })}
          onInput={(e) => {
            const el = e.currentTarget;
            setText(el.value);
            el.style.height = 'auto';
            el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              send();
            }
          }}
        />
        {busy ? (
          <button type="button" class="send-btn stop" onClick={stop} aria-label={t('stop')} title={t('stop')}>
            <Icon name="stop" />
          </button>
        ) : (
          <button type="submit" class="send-btn" disabled={readOnly || !text.trim()} aria-label={t('send')} title={t('send')}>
            <Icon name="send" />
          </button>
        )}
      </form>
      {reporting && <ReportDialog target={reporting} onClose={() => setReporting(null)} />}
      {panel === 'memories' && (
        <MemoriesPanel
          conversationId={id}
          name={name}
          onClose={() => setPanel(null)}
          onInspect={() => setPanel('inspector')}
          onExport={exportConversation}
          onUnpinned={(mid) => patch(mid, (x) => ({ ...x, pinned: false }))}
          canShow={(mid) => isLoaded(mid)}
          onShow={jumpTo}
        />
      )}
      {panel === 'inspector' && <PromptInspector conversationId={id} name={name} draft={text} isLoaded={isLoaded} onJump={jumpTo} onClose={() => setPanel(null)} />}
    </section>
  );
}
