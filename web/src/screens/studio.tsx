// Studio: the user's own characters, and one character's page (details, chat, export).
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, enc, matureParam, qs, type Character, type Conversation, type User } from '../api';
import { Avatar, CharacterCard, Empty, MatureBadge, Spinner } from '../components/common';
import { Icon } from '../components/icons';
import { t } from '../i18n';
import { navigate, useApp } from '../state';
import { RichText } from '../components/richtext';
import { ReportDialog } from '../components/report';

export async function listMine(user: User | null): Promise<Character[]> {
  const out: Character[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10; page++) {
    const r: { items: Character[]; next_cursor: string | null } = await api('GET', `/api/characters${qs({ mine: 1, limit: 100, mature: matureParam(user), cursor })}`);
    out.push(...r.items.filter((c) => c.is_owner));
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  return out;
}

export function StudioScreen() {
  const { toast, user } = useApp();
  const [items, setItems] = useState<Character[] | null>(null);
  useEffect(() => {
    listMine(user)
      .then(setItems)
      .catch((e) => {
        setItems([]);
        toast(e instanceof ApiError ? e.message : t('error_generic'), 'error');
      });
  }, []);
  return (
    <section class="page studio" aria-labelledby="studio-title">
      <header class="page-head">
        <h1 id="studio-title">{t('studio_title')}</h1>
      </header>
      <div class="studio-actions">
        <a class="btn btn-primary" href="#/create">
          <Icon name="plus" size={18} /> {t('create_character')}
        </a>
        <a class="btn" href="#/import">
          <Icon name="upload" size={18} /> {t('import_card')}
        </a>
      </div>
      <h2 class="section-title">{t('my_characters')}</h2>
      {items === null ? (
        <Spinner />
      ) : items.length === 0 ? (
        <Empty title={t('no_characters')} />
      ) : (
        <ul class="char-grid">
          {items.map((c) => (
            <li key={String(c.id)}>
              <a class="char-tile" href={`#/character/${enc(c.id)}`}>
                <Avatar name={c.name} url={c.avatar_url} size={64} />
                <span class="char-tile-name">{c.name}</span>
                <span class="char-tile-tag">{c.tagline}</span>
                <span class="row-wrap chips">
                  <span class="chip chip-vis">{t(`vis_${c.visibility}` as 'vis_public').split(' — ')[0]}</span>
                  {c.mature && <MatureBadge />}
                  {c.hidden && <span class="chip chip-warn">{t('chip_hidden')}</span>}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function CharacterScreen({ id }: { id: string }) {
  const { toast, user } = useApp();
  const me = user?.display_name || user?.username || '';
  const [c, setC] = useState<Character | null>(null);
  const [missing, setMissing] = useState(false);
  const [reporting, setReporting] = useState(false);
  useEffect(() => {
    api<Character>('GET', `/api/characters/${enc(id)}`)
      .then(setC)
      .catch((e) => {
        setMissing(true);
        toast(e instanceof ApiError ? e.message : t('error_generic'), 'error');
      });
  }, [id]);

  async function chat() {
    if (!c) return;
    try {
      const conv = await api<Conversation>('POST', '/api/conversations', { character_id: c.id });
      navigate(`/chat/${enc(conv.id)}`);
    } catch (e) {
      toast(e instanceof ApiError ? e.message : t('error_generic'), 'error');
    }
  }
  async function del() {
    if (!c || !window.confirm(t('confirm_delete_character'))) return;
    try {
      await api('DELETE', `/api/characters/${enc(c.id)}`);
      navigate('/studio');
    } catch (e) {
      toast(e instanceof ApiError ? e.message : t('error_generic'), 'error');
    }
  }

  if (missing) return <p class="page">{t('not_found')}</p>;
  if (!c) return <Spinner />;
  const exp = (fmt: string) => `/api/characters/${enc(c.id)}/export?format=${fmt}`;
  return (
    <section class="page character-page" aria-label={c.name}>
      <header class="page-head">
        <a
          class="icon-btn"
          href="#/studio"
          aria-label={t('back')}
          onClick={(e) => {
            if (window.history.length > 1) {
              e.preventDefault();
              window.history.back();
            }
          }}
        >
          <Icon name="back" />
        </a>
        <h1>{c.name}</h1>
      </header>
      {c.hidden && (
        <p class="notice" role="note">
          {t('hidden_notice')}
        </p>
      )}
      {c.removed && (
        <p class="notice" role="note">
          {t('removed_notice')}
        </p>
      )}
      <div class="character-layout">
        <div class="character-card-wrap">
          <CharacterCard c={c} expanded user={me} />
        </div>
        <div class="character-side">
          <div class="row-wrap">
            <button class="btn btn-primary" onClick={chat}>
              <Icon name="chat" size={18} /> {t('start_chat')}
            </button>
            {c.is_owner && (
              <a class="btn" href={`#/edit/${enc(c.id)}`}>
                <Icon name="edit" size={18} /> {t('edit')}
              </a>
            )}
            {!c.is_owner && (
              <button class="btn btn-ghost" onClick={() => setReporting(true)} aria-label={t('report_named', { name: c.name })}>
                <Icon name="flag" size={18} /> {t('report')}
              </button>
            )}
          </div>
          {c.stats && <p class="muted">{t('stats', { likes: c.stats.likes, passes: c.stats.passes, conversations: c.stats.conversations })}</p>}
          {c.description && (
            <>
              <h2 class="section-title">{t('description')}</h2>
              <p class="prose">
                <RichText text={c.description} char={c.name} user={me} />
              </p>
            </>
          )}
          {c.scenario && (
            <>
              <h2 class="section-title">{t('scenario')}</h2>
              <p class="prose">
                <RichText text={c.scenario} char={c.name} user={me} />
              </p>
            </>
          )}
          <h2 class="section-title">{t('export')}</h2>
          <div class="row-wrap export-links">
            {['png', 'json', 'charx'].map((f) => (
              <a key={f} class="btn btn-sm" href={exp(f)} download aria-label={t('export_as', { fmt: f.toUpperCase() })}>
                <Icon name="download" size={16} /> {f.toUpperCase()}
              </a>
            ))}
          </div>
          {c.is_owner && (
            <button class="btn btn-ghost danger" onClick={del}>
              <Icon name="trash" size={18} /> {t('delete_character')}
            </button>
          )}
        </div>
      </div>
      {reporting && <ReportDialog target={{ kind: 'character', id: c.id, name: c.name }} onClose={() => setReporting(false)} />}
    </section>
  );
}
