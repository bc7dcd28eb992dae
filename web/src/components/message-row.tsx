// One chat message with its tools (alternatives, regenerate, continue, rating, the action
// menu) and the typing indicator. Used by the chat screen.
import { memo } from 'preact/compat';
import type { Message } from '../api';
import { t } from '../i18n';
import { Avatar } from './common';
import { Icon } from './icons';
import { RichText } from './richtext';

export function Typing({ name, avatar }: { name: string; avatar: string | null }) {
  return (
    <div class="msg msg-assistant">
      <Avatar name={name} url={avatar} size={32} class="msg-avatar" />
      <div class="bubble typing" role="status" aria-label={t('typing', { name })}>
        <span />
        <span />
        <span />
      </div>
    </div>
  );
}

export interface RowProps {
  m: Message;
  name: string;
  userName: string;
  avatar: string | null;
  removed: boolean;
  readOnly: boolean;
  isFirst: boolean;
  isLastAssistant: boolean;
  busy: boolean;
  menuOpen: boolean;
  editing: string | null;
  onMenu: () => void;
  onAlt: (delta: number) => void;
  onRegenerate: () => void;
  onContinue: () => void;
  onRate: (stars: number) => void;
  onEdit: () => void;
  onEditText: (s: string) => void;
  onEditSave: () => void;
  onEditCancel: () => void;
  onDelete: () => void;
  onReport: () => void;
  /** Pin the message as a memory, or unpin it when `m.pinned`. */
  onPin: () => void;
  /** Never recall the message again (it stays in the chat). */
  onForget: () => void;
}

export const MessageRow = memo(function MessageRow(p: RowProps) {
  const { m } = p;
  const mine = m.role === 'user';
  const streaming = m.status === 'streaming';
  const showAlts = m.role === 'assistant' && m.alternatives > 1 && (p.isLastAssistant || p.isFirst);
  // Greetings (no parent) switch between alternate greetings instead of regenerating.
  const showTools = m.role === 'assistant' && p.isLastAssistant && !streaming && m.parent_id !== null && m.parent_id !== undefined;
  return (
    <div id={`msg-${m.id}`} tabIndex={-1} class={`msg ${mine ? 'msg-user' : 'msg-assistant'}`} data-status={m.status} data-testid="message" data-pinned={m.pinned ? 'true' : undefined}>
      {!mine && <Avatar name={p.name} url={p.avatar} size={32} class="msg-avatar" removed={p.removed} />}
      <div class="msg-col">
        {p.editing !== null ? (
          <div class="bubble editing">
            <label class="sr-only" for={`edit-${m.id}`}>
              {t('edit')}
            </label>
            <textarea id={`edit-${m.id}`} value={p.editing} rows={4} onInput={(e) => p.onEditText(e.currentTarget.value)} />
            <div class="row-end">
              <button class="btn btn-ghost btn-sm" onClick={p.onEditCancel}>
                {t('cancel')}
              </button>
              <button class="btn btn-primary btn-sm" onClick={p.onEditSave}>
                {t('save')}
              </button>
            </div>
          </div>
        ) : (
          <div class={`bubble${streaming ? ' streaming' : ''}`}>
            <RichText text={m.content} char={p.name} user={p.userName} />
            {streaming && !m.content && (
              <span class="typing inline" aria-label={t('typing', { name: p.name })}>
                <span />
                <span />
                <span />
              </span>
            )}
            {streaming && m.content && <span class="caret" aria-hidden="true" />}
          </div>
        )}
        {(m.status === 'stopped' || m.status === 'failed') && <span class={`msg-status ${m.status}`}>{t(m.status)}</span>}
        {m.forgotten && (
          <span class="msg-status forgotten" title={t('forget_hint', { name: p.name })} data-testid="forgotten-mark">
            {t('forgotten_mark')}
          </span>
        )}
        <div class={`msg-tools${mine ? ' mine' : ''}`}>
          {m.pinned && (
            <span class="pin-mark" role="img" aria-label={t('pinned_mark')} title={t('pinned_mark')} data-testid="pin-mark">
              <Icon name="pin" size={16} />
            </span>
          )}
          {showAlts && (
            <span class="alts" role="group" aria-label={t('alternative_n', { i: m.alternative_index + 1, n: m.alternatives })}>
              <button class="tool-btn" onClick={() => p.onAlt(-1)} disabled={p.busy || m.alternative_index <= 0} aria-label={t('previous_alternative')}>
                <Icon name="chevl" size={18} />
              </button>
              <span class="alts-count" data-testid="alt-count">
                {m.alternative_index + 1}/{m.alternatives}
              </span>
              <button class="tool-btn" onClick={() => p.onAlt(1)} disabled={p.busy || m.alternative_index >= m.alternatives - 1} aria-label={t('next_alternative')}>
                <Icon name="chevr" size={18} />
              </button>
            </span>
          )}
          {showTools && (
            <>
              <button class="tool-btn" onClick={p.onRegenerate} disabled={p.busy || p.readOnly} aria-label={t('regenerate')} title={t('regenerate')}>
                <Icon name="refresh" size={18} />
              </button>
              <button class="tool-btn" onClick={p.onContinue} disabled={p.busy || p.readOnly} aria-label={t('continue')} title={t('continue')}>
                <Icon name="play" size={18} />
              </button>
            </>
          )}
          {m.role === 'assistant' && !streaming && (p.isLastAssistant || m.rating > 0 || p.menuOpen) && (
            <span class="stars" role="group" aria-label={t('rate')}>
              {[1, 2, 3, 4, 5].map((s) => (
                <button key={s} class={`star${s <= m.rating ? ' on' : ''}`} onClick={() => p.onRate(s)} aria-label={t('stars', { n: s })} aria-pressed={s <= m.rating && m.rating > 0}>
                  <Icon name="star" size={16} />
                </button>
              ))}
            </span>
          )}
          {!streaming && (
            <button class="tool-btn msg-more" onClick={p.onMenu} aria-expanded={p.menuOpen} aria-label={t('message_actions')} title={t('message_actions')}>
              <Icon name="more" size={18} />
            </button>
          )}
          {p.menuOpen && !streaming && (
            <span class="msg-menu">
              <button class="btn btn-ghost btn-sm" onClick={p.onEdit} disabled={p.busy || p.readOnly}>
                <Icon name="edit" size={16} /> {t('edit')}
              </button>
              <button class="btn btn-ghost btn-sm" onClick={p.onPin}>
                <Icon name="pin" size={16} /> {m.pinned ? t('unpin_message') : t('pin_message')}
              </button>
              {!m.forgotten && (
                <button class="btn btn-ghost btn-sm" onClick={p.onForget} title={t('forget_hint', { name: p.name })}>
                  <Icon name="forget" size={16} /> {t('forget_message')}
                </button>
              )}
              <button class="btn btn-ghost btn-sm danger" onClick={p.onDelete} disabled={p.busy}>
                <Icon name="trash" size={16} /> {t('delete')}
              </button>
              {m.role === 'assistant' && (
                <button class="btn btn-ghost btn-sm" onClick={p.onReport} aria-label={t('report_message')}>
                  <Icon name="flag" size={16} /> {t('report')}
                </button>
              )}
            </span>
          )}
        </div>
      </div>
    </div>
  );
});
