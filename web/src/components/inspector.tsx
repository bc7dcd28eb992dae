// "What <name> remembers": the prompt the next turn would send (GET …/prompt?draft=), one
// collapsible block per section with its token count, the total against the context size,
// and links from recalled passages to the messages they came from.
import { useEffect, useRef, useState } from 'preact/hooks';
import { memory, PROMPT_SECTIONS, type Id, type PromptMessage, type PromptView, type SourceRef } from '../api';
import { dateTime, t, type Key } from '../i18n';
import { errorText, Spinner } from './common';
import { Icon } from './icons';
import { Modal } from './report';

export interface SectionBlock {
  name: string;
  tokens: number;
  messages: PromptMessage[];
}

/**
 * The prompt's messages grouped by section, in the order the server assembles them
 * (unknown sections after, in the order they appear). A section listed in `sections` but
 * without messages still gets a block, so every count is shown.
 */
export function promptBlocks(v: PromptView): SectionBlock[] {
  const by = new Map<string, PromptMessage[]>();
  for (const m of v.messages || []) {
    const k = m.section || 'history';
    if (!by.has(k)) by.set(k, []);
    by.get(k)!.push(m);
  }
  const names: string[] = PROMPT_SECTIONS.filter((s) => by.has(s) || (v.sections && s in v.sections));
  for (const k of [...by.keys(), ...Object.keys(v.sections || {})]) if (!names.includes(k)) names.push(k);
  return names.map((name) => ({ name, tokens: Number(v.sections?.[name] ?? 0), messages: by.get(name) || [] }));
}

/** Sections shown expanded at first: the memory-related ones; the long ones start closed. */
const OPEN = new Set(['pinned', 'summary', 'recalled', 'draft']);

const sectionLabel = (name: string): string => {
  const k = `section_${name}` as Key;
  const s = t(k);
  return s === k ? name : s;
};

export interface InspectorProps {
  conversationId: Id;
  name: string;
  /** The composer's text: the prompt is built as if it were sent. */
  draft: string;
  /** Whether a message of this conversation is in the loaded chat. */
  isLoaded: (messageId: Id, conversationId: Id) => boolean;
  /** Closes the inspector and scrolls the chat to the message. */
  onJump: (messageId: Id) => void;
  onClose: () => void;
}

export function PromptInspector(p: InspectorProps) {
  const [view, setView] = useState<PromptView | null>(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  const ctl = useRef<AbortController | null>(null);

  async function load() {
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setLoading(true);
    setError('');
    try {
      setView(await memory.prompt(p.conversationId, p.draft, c.signal));
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') return;
      setError(errorText(e));
    } finally {
      if (ctl.current === c) setLoading(false);
    }
  }
  useEffect(() => {
    load();
    return () => ctl.current?.abort();
  }, [p.conversationId]);

  const roleLabel = (m: PromptMessage) => (m.role === 'user' ? t('you') : m.role === 'assistant' ? p.name : t('role_system'));
  const source = (s: SourceRef, i: number) => {
    const date = dateTime(s.created_at);
    return p.isLoaded(s.message_id, s.conversation_id) ? (
      <button key={i} type="button" class="link-btn" onClick={() => p.onJump(s.message_id)} data-testid="source-link" data-message-id={String(s.message_id)}>
        {t('source_jump', { date })}
      </button>
    ) : (
      <span key={i} class="pi-source-date" data-testid="source-date">
        {t('source_at', { date })}
      </span>
    );
  };

  const blocks = view ? promptBlocks(view) : [];
  const pct = view && view.n_ctx > 0 ? Math.min(100, Math.round((view.n_tokens / view.n_ctx) * 100)) : 0;
  return (
    <Modal title={t('inspector_open', { name: p.name })} onClose={p.onClose} class="inspector-dialog">
      <div data-testid="prompt-inspector" aria-busy={loading}>
        <button type="button" class="icon-btn modal-close" onClick={p.onClose} aria-label={t('close')} title={t('close')}>
          <Icon name="x" />
        </button>
        <p class="hint pi-intro">{t('inspector_intro', { name: p.name })}</p>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        {!view && !error && <Spinner />}
        {view && (
          <>
            <div class="pi-total">
              <span id="pi-usage-label">{t('inspector_usage')}</span>
              <meter min={0} max={Math.max(1, view.n_ctx)} value={view.n_tokens} aria-labelledby="pi-usage-label" />
              <span class="pi-total-n" data-testid="prompt-total">
                {t('inspector_total', { n: view.n_tokens, ctx: view.n_ctx })} ({pct}%)
              </span>
            </div>
            {blocks.map((b) => (
              <details key={b.name} class="pi-section" data-section={b.name} open={OPEN.has(b.name)}>
                <summary>
                  <span class="pi-name">{sectionLabel(b.name)}</span>
                  <span class="pi-tokens">{t('inspector_tokens', { n: b.tokens })}</span>
                </summary>
                {b.messages.length === 0 ? (
                  <p class="hint">{t('inspector_empty')}</p>
                ) : (
                  b.messages.map((m, i) => (
                    <div key={i} class={`pi-msg pi-${m.role}`}>
                      <span class="pi-role">{roleLabel(m)}</span>
                      <div class="pi-text">{m.content}</div>
                      {m.source_ids && m.source_ids.length > 0 && (
                        <p class="pi-sources">
                          <span>{t('recalled_from')}</span> {m.source_ids.map(source)}
                        </p>
                      )}
                    </div>
                  ))
                )}
              </details>
            ))}
          </>
        )}
        <div class="row-end">
          <button type="button" class="btn btn-ghost btn-sm" onClick={load}>
            <Icon name="refresh" size={16} /> {t('inspector_refresh')}
          </button>
          <button type="button" class="btn btn-sm" onClick={p.onClose}>
            {t('close')}
          </button>
        </div>
      </div>
    </Modal>
  );
}
