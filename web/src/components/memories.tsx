// The Memories panel of a chat: the relationship's notes and pinned messages in prompt order
// (add, edit in place, delete, move up/down), its limits, and the "Story so far" summary
// (shown, edited; with a notice when the demo model wrote it). It also opens the prompt
// inspector and downloads the conversation. See docs/api.md "Memory".
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { DEFAULT_MEMORY_LIMITS, memory, moved, SUMMARY_MAX_CHARS, type Id, type Memory, type MemoryList } from '../api';
import { dateTime, t } from '../i18n';
import { useApp } from '../state';
import { errorText, Spinner } from './common';
import { Icon } from './icons';
import { Modal } from './report';

/** Characters as the server counts them (code points, not UTF-16 units). */
export const charCount = (s: string): number => [...s].length;

/** Memories in prompt order. */
export const byPosition = (items: Memory[]): Memory[] => items.slice().sort((a, b) => a.position - b.position);

/** Saves a blob under a file name through a temporary download link. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface MemoriesPanelProps {
  conversationId: Id;
  /** The character's name. */
  name: string;
  onClose: () => void;
  /** Opens the prompt inspector ("What <name> remembers"). */
  onInspect: () => void;
  /** Downloads the conversation as JSON. */
  onExport: () => void;
  /** A pin was deleted here: its message is no longer pinned. */
  onUnpinned?: (messageId: Id) => void;
  /** Whether a message is in the loaded chat, and how to show it there. */
  canShow?: (messageId: Id) => boolean;
  onShow?: (messageId: Id) => void;
}

interface Editing {
  id: Id;
  text: string;
  error: string;
  busy: boolean;
}

/** A textarea's "n characters left" line, marked when over the limit. */
function Left({ id, text, max }: { id: string; text: string; max: number }) {
  const left = max - charCount(text);
  return (
    <p class={`hint${left < 0 ? ' over' : ''}`} id={id}>
      {left < 0 ? t('chars_over', { n: -left }) : t('chars_left', { n: left })}
    </p>
  );
}

export function MemoriesPanel(p: MemoriesPanelProps) {
  const { toast } = useApp();
  const [data, setData] = useState<MemoryList | null>(null);
  const [loadError, setLoadError] = useState('');
  const [note, setNote] = useState('');
  const [noteError, setNoteError] = useState('');
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [summaryEdit, setSummaryEdit] = useState<Editing | null>(null);
  const [announce, setAnnounce] = useState('');
  const moving = useRef(false);
  // Where focus goes after the next render (an element id), e.g. after a move or an edit.
  const focusNext = useRef<string | null>(null);
  const limits = data?.limits || DEFAULT_MEMORY_LIMITS;
  const items = data?.items || [];
  const conv = p.conversationId;

  useLayoutEffect(() => {
    const want = focusNext.current;
    if (!want) return;
    focusNext.current = null;
    const el = document.getElementById(want) as HTMLButtonElement | null;
    if (el && !el.disabled) el.focus();
  });

  async function load() {
    try {
      const d = await memory.list(conv);
      setData({ ...d, items: byPosition(d.items || []), limits: d.limits || DEFAULT_MEMORY_LIMITS });
      setLoadError('');
    } catch (e) {
      setLoadError(errorText(e));
    }
  }
  useEffect(() => {
    load();
  }, [conv]);

  const setItems = (f: (xs: Memory[]) => Memory[]) => setData((d) => (d ? { ...d, items: f(d.items) } : d));

  async function addNote(e: Event) {
    e.preventDefault();
    const content = note.trim();
    if (!content || adding) return;
    setAdding(true);
    setNoteError('');
    try {
      const m = await memory.addNote(conv, content);
      setItems((xs) => [...xs, m]);
      setNote('');
      setAnnounce(t('memory_added'));
    } catch (err) {
      // The typed text stays; the server says what was wrong (too long, too many).
      setNoteError(errorText(err));
    } finally {
      setAdding(false);
    }
  }

  async function move(index: number, delta: number) {
    if (moving.current) return;
    const before = items;
    const next = moved(items, index, delta);
    if (next === items) return;
    const mid = items[index].id;
    const to = index + delta;
    moving.current = true;
    setItems(() => next);
    // Keep focus on the moved memory: the same button, or the other one at either end.
    const dir = delta < 0 ? 'up' : 'down';
    const atEnd = to === 0 || to === next.length - 1;
    focusNext.current = `mem-${mid}-${atEnd ? (dir === 'up' ? 'down' : 'up') : dir}`;
    try {
      const saved = await memory.reorder(conv, next.map((m) => m.id));
      if (Array.isArray(saved) && saved.length === next.length) setItems(() => byPosition(saved.map((m, i) => ({ ...m, position: m.position ?? i }))));
      setAnnounce(t('memory_moved', { i: to + 1, n: next.length }));
    } catch (err) {
      setItems(() => before);
      toast(errorText(err), 'error');
    } finally {
      moving.current = false;
    }
  }

  function startEdit(m: Memory) {
    setEditing({ id: m.id, text: m.content, error: '', busy: false });
    focusNext.current = `mem-edit-${m.id}`;
  }
  function endEdit(mid: Id) {
    setEditing(null);
    focusNext.current = `mem-${mid}-edit`;
  }
  async function saveEdit(e: Event) {
    e.preventDefault();
    if (!editing || editing.busy || !editing.text.trim()) return;
    const ed = editing;
    setEditing({ ...ed, busy: true, error: '' });
    try {
      const m = await memory.update(conv, ed.id, ed.text.trim());
      setItems((xs) => xs.map((x) => (String(x.id) === String(ed.id) ? { ...x, ...m } : x)));
      endEdit(ed.id);
    } catch (err) {
      setEditing({ ...ed, busy: false, error: errorText(err) });
    }
  }

  async function remove(m: Memory, index: number) {
    if (!window.confirm(t('confirm_delete_memory', { name: p.name }))) return;
    try {
      await memory.remove(conv, m.id);
      const rest = items.filter((x) => x !== m);
      setItems((xs) => xs.filter((x) => String(x.id) !== String(m.id)));
      if (m.kind === 'pin' && m.message_id !== null) p.onUnpinned?.(m.message_id);
      const neighbour = rest[Math.min(index, rest.length - 1)];
      focusNext.current = neighbour ? `mem-${neighbour.id}-edit` : 'memory-note';
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  async function saveSummary(e: Event) {
    e.preventDefault();
    if (!summaryEdit || summaryEdit.busy) return;
    const ed = summaryEdit;
    setSummaryEdit({ ...ed, busy: true, error: '' });
    try {
      const s = await memory.saveSummary(conv, ed.text.trim());
      setData((d) => (d ? { ...d, summary: s } : d));
      setSummaryEdit(null);
      focusNext.current = 'summary-edit';
      setAnnounce(t('summary_saved'));
    } catch (err) {
      setSummaryEdit({ ...ed, busy: false, error: errorText(err) });
    }
  }

  const summary = data?.summary || null;
  return (
    <Modal title={t('memories_title', { name: p.name })} onClose={p.onClose} class="memories-dialog">
      <div data-testid="memories-panel">
        <button type="button" class="icon-btn modal-close" onClick={p.onClose} aria-label={t('close')} title={t('close')}>
          <Icon name="x" />
        </button>
        <div class="mem-actions">
          <button type="button" class="btn btn-sm" onClick={p.onInspect}>
            <Icon name="eye" size={16} /> {t('inspector_open', { name: p.name })}
          </button>
          <button type="button" class="btn btn-sm" onClick={p.onExport}>
            <Icon name="download" size={16} /> {t('export_conversation')}
          </button>
        </div>
        <p class="hint mem-intro">{t('memories_intro', { name: p.name })}</p>
        <p class="sr-only" role="status">
          {announce}
        </p>
        {loadError && (
          <p class="form-error" role="alert">
            {loadError}
          </p>
        )}
        {!data && !loadError && <Spinner />}
        {data && (
          <>
            <h3 class="section-title mem-head" id="memories-list-title">
              <span>{t('memories_list')}</span>
              <span class="mem-limits" data-testid="memory-limits">
                {t('memories_limits', { n: items.length, max: limits.max_items, chars: limits.max_chars })}
              </span>
            </h3>
            {items.length === 0 ? (
              <p class="hint mem-empty">{t('memories_empty')}</p>
            ) : (
              <ol class="mem-list" aria-labelledby="memories-list-title">
                {items.map((m, i) => (
                  <li class={`mem-item mem-${m.kind}`} key={String(m.id)} data-testid="memory" data-kind={m.kind}>
                    <div class="mem-kind">
                      <Icon name={m.kind === 'pin' ? 'pin' : 'memory'} size={14} />
                      <span>{m.kind === 'pin' ? t('memory_pin') : t('memory_note')}</span>
                      <span class="mem-date">{dateTime(m.updated_at || m.created_at)}</span>
                    </div>
                    {editing && String(editing.id) === String(m.id) ? (
                      <form class="mem-edit" onSubmit={saveEdit}>
                        <label class="sr-only" for={`mem-edit-${m.id}`}>
                          {t('memory_edit')}
                        </label>
                        <textarea
                          id={`mem-edit-${m.id}`}
                          rows={3}
                          value={editing.text}
                          maxLength={limits.max_chars * 2}
                          aria-describedby={`mem-edit-${m.id}-left`}
                          onInput={(e) => setEditing({ ...editing, text: e.currentTarget.value })}
                          onKeyDown={(e) => {
                            if (e.key === 'Escape') {
                              e.stopPropagation();
                              endEdit(m.id);
                            }
                          }}
                        />
                        <Left id={`mem-edit-${m.id}-left`} text={editing.text} max={limits.max_chars} />
                        {editing.error && (
                          <p class="form-error" role="alert">
                            {editing.error}
                          </p>
                        )}
                        <div class="row-end">
                          <button type="button" class="btn btn-ghost btn-sm" onClick={() => endEdit(m.id)}>
                            {t('cancel')}
                          </button>
                          <button type="submit" class="btn btn-primary btn-sm" disabled={editing.busy || !editing.text.trim() || charCount(editing.text.trim()) > limits.max_chars}>
                            {t('save')}
                          </button>
                        </div>
                      </form>
                    ) : (
                      <p class="mem-text">{m.content}</p>
                    )}
                    <div class="mem-tools" role="group" aria-label={t('memory_n', { i: i + 1, n: items.length })}>
                      <button type="button" id={`mem-${m.id}-up`} class="tool-btn" onClick={() => move(i, -1)} disabled={i === 0} aria-label={t('memory_move_up')} title={t('memory_move_up')}>
                        <Icon name="chevu" size={18} />
                      </button>
                      <button type="button" id={`mem-${m.id}-down`} class="tool-btn" onClick={() => move(i, 1)} disabled={i === items.length - 1} aria-label={t('memory_move_down')} title={t('memory_move_down')}>
                        <Icon name="chevd" size={18} />
                      </button>
                      <button type="button" id={`mem-${m.id}-edit`} class="tool-btn" onClick={() => startEdit(m)} aria-label={t('memory_edit')} title={t('memory_edit')}>
                        <Icon name="edit" size={18} />
                      </button>
                      <button type="button" class="tool-btn danger" onClick={() => remove(m, i)} aria-label={t('memory_delete')} title={t('memory_delete')}>
                        <Icon name="trash" size={18} />
                      </button>
                      {m.kind === 'pin' && m.message_id !== null && p.canShow?.(m.message_id) && (
                        <button type="button" class="btn btn-ghost btn-sm" onClick={() => p.onShow?.(m.message_id!)}>
                          {t('memory_show')}
                        </button>
                      )}
                    </div>
                  </li>
                ))}
              </ol>
            )}
            <form class="mem-add" onSubmit={addNote} data-testid="memory-add">
              <div class="field">
                <label for="memory-note">{t('memory_add_label')}</label>
                <textarea
                  id="memory-note"
                  rows={2}
                  value={note}
                  // The limit is in characters; maxLength counts UTF-16 units (an emoji is two).
                  maxLength={limits.max_chars * 2}
                  placeholder={t('memory_add_hint', { name: p.name })}
                  aria-describedby="memory-note-left"
                  aria-invalid={noteError ? true : undefined}
                  onInput={(e) => setNote(e.currentTarget.value)}
                />
                <Left id="memory-note-left" text={note} max={limits.max_chars} />
              </div>
              {noteError && (
                <p class="form-error" role="alert" data-testid="memory-error">
                  {noteError}
                </p>
              )}
              <div class="row-end">
                <button type="submit" class="btn btn-primary btn-sm" disabled={adding || !note.trim() || charCount(note.trim()) > limits.max_chars}>
                  <Icon name="plus" size={16} /> {t('memory_add')}
                </button>
              </div>
            </form>

            <section class="mem-summary" aria-labelledby="summary-title" data-testid="summary">
              <h3 class="section-title" id="summary-title">
                {t('summary_title')}
              </h3>
              {data.demo_model && (
                <p class="notice summary-demo" role="note" data-testid="summary-demo">
                  {t('summary_demo')}
                </p>
              )}
              {summaryEdit ? (
                <form onSubmit={saveSummary}>
                  <div class="field">
                    <label for="summary-text">{t('summary_label', { name: p.name })}</label>
                    <textarea
                      id="summary-text"
                      rows={6}
                      value={summaryEdit.text}
                      maxLength={SUMMARY_MAX_CHARS * 2}
                      aria-describedby="summary-text-hint summary-text-left"
                      onInput={(e) => setSummaryEdit({ ...summaryEdit, text: e.currentTarget.value })}
                      onKeyDown={(e) => {
                        if (e.key === 'Escape') {
                          e.stopPropagation();
                          setSummaryEdit(null);
                          focusNext.current = 'summary-edit';
                        }
                      }}
                    />
                    <p class="hint" id="summary-text-hint">
                      {t('summary_hint')}
                    </p>
                    <Left id="summary-text-left" text={summaryEdit.text} max={SUMMARY_MAX_CHARS} />
                  </div>
                  {summaryEdit.error && (
                    <p class="form-error" role="alert">
                      {summaryEdit.error}
                    </p>
                  )}
                  <div class="row-end">
                    <button
                      type="button"
                      class="btn btn-ghost btn-sm"
                      onClick={() => {
                        setSummaryEdit(null);
                        focusNext.current = 'summary-edit';
                      }}
                    >
                      {t('cancel')}
                    </button>
                    <button type="submit" class="btn btn-primary btn-sm" disabled={summaryEdit.busy || charCount(summaryEdit.text.trim()) > SUMMARY_MAX_CHARS}>
                      {t('save')}
                    </button>
                  </div>
                </form>
              ) : (
                <>
                  {summary && summary.content ? <p class="mem-text summary-text">{summary.content}</p> : <p class="hint">{t('summary_empty')}</p>}
                  {summary && (
                    <p class="hint summary-meta" data-testid="summary-meta">
                      {t('summary_meta', { v: summary.version, date: dateTime(summary.created_at) })}
                      {summary.edited ? ` · ${t('summary_edited')}` : ''}
                    </p>
                  )}
                  <div class="row-end">
                    <button
                      type="button"
                      id="summary-edit"
                      class="btn btn-sm"
                      onClick={() => {
                        setSummaryEdit({ id: 'summary', text: summary?.content || '', error: '', busy: false });
                        focusNext.current = 'summary-text';
                      }}
                    >
                      <Icon name="edit" size={16} /> {t('summary_edit')}
                    </button>
                  </div>
                </>
              )}
            </section>
          </>
        )}
      </div>
    </Modal>
  );
}
