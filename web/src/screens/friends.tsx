// Friends: everyone liked, newest conversation first, with the last message and time.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, enc, isRemoved, type Conversation, type Friend } from '../api';
import { Avatar, Empty, Spinner } from '../components/common';
import { relTime, t } from '../i18n';
import { navigate, useApp } from '../state';

/** The friends list; `pane` renders it as the side column beside a chat on wide screens. */
export function FriendsScreen({ pane = false, activeId }: { pane?: boolean; activeId?: string } = {}) {
  const { toast } = useApp();
  const [items, setItems] = useState<Friend[] | null>(null);

  const load = () =>
    api<{ items: Friend[] }>('GET', '/api/friends')
      .then((r) => setItems(r.items))
      .catch((e) => {
        setItems([]);
        toast(e instanceof ApiError ? e.message : t('error_generic'), 'error');
      });

  useEffect(() => {
    load();
    const f = () => load();
    window.addEventListener('tokki:event', f);
    return () => window.removeEventListener('tokki:event', f);
  }, []);

  return (
    <section class={pane ? 'friends friends-pane' : 'page friends'} aria-labelledby={pane ? 'friends-pane-title' : 'friends-title'}>
      <header class="page-head">
        {pane ? <h2 id="friends-pane-title">{t('nav_friends')}</h2> : <h1 id="friends-title">{t('nav_friends')}</h1>}
      </header>
      {items === null ? (
        <Spinner />
      ) : items.length === 0 ? (
        <Empty title={t('friends_empty')} hint={t('friends_empty_hint')}>
          <a class="btn btn-primary" href="#/discover">
            {t('go_discover')}
          </a>
        </Empty>
      ) : (
        <ul class="friend-list">
          {items.map((f) => {
            const removed = isRemoved(f);
            const name = removed ? (f.character.name ? t('removed_name', { name: f.character.name }) : t('removed_character')) : f.character.name;
            return (
            <li key={String(f.character.id)}>
              <a
                class={`friend${activeId !== undefined && String(f.conversation_id) === activeId ? ' active' : ''}${f.read_only ? ' read-only' : ''}`}
                aria-current={activeId !== undefined && String(f.conversation_id) === activeId ? 'page' : undefined}
                href={f.conversation_id != null ? `#/chat/${enc(f.conversation_id)}` : `#/character/${enc(f.character.id)}`}
                onClick={(e) => {
                  if (f.conversation_id != null) return;
                  // A friend without a conversation yet: start one (it opens with the greeting).
                  e.preventDefault();
                  api<Conversation>('POST', '/api/conversations', { character_id: f.character.id })
                    .then((c) => navigate(`/chat/${enc(c.id)}`))
                    .catch((err) => toast(err instanceof ApiError ? err.message : t('error_generic'), 'error'));
                }}
              >
                <Avatar name={f.character.name} url={f.character.avatar_url} size={56} removed={removed} />
                <span class="friend-body">
                  <span class="friend-top">
                    <span class="friend-name">{name}</span>
                    {f.read_only && !removed && <span class="mini-badge muted-badge">{t('unavailable')}</span>}
                    {f.superlike && (
                      <span class="super-mark" title={t('superlike')} aria-label={t('superlike')}>
                        ★
                      </span>
                    )}
                    {f.character.real_person && <span class="mini-badge" title={t('ai_portrayal')}>AI</span>}
                    <time class="friend-time" dateTime={new Date(f.updated_at).toISOString()}>
                      {relTime(f.updated_at)}
                    </time>
                  </span>
                  <span class="friend-last">
                    {f.last_message ? (f.last_message.role === 'user' ? `${t('you')}: ` : '') + f.last_message.content.replace(/\*/g, '') : t('no_messages')}
                  </span>
                </span>
              </a>
            </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
