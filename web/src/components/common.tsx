// Shared presentational pieces: avatar (image or generated monogram), the AI-portrayal
// badge, and the character card used by the deck, previews and the studio.
// Every piece of card text is rendered as a text node, never as HTML.
import { ApiError, type Character } from '../api';
import { t } from '../i18n';
import { Icon } from './icons';
import { RichText } from './richtext';

function hue(s: string): number {
  let h = 0;
  for (const ch of s) h = (h * 31 + (ch.codePointAt(0) || 0)) % 360;
  return h;
}

/** First visible character of a name (handles surrogate pairs). */
export function monogram(name: string): string {
  const first = [...(name || '').trim()][0];
  return first ? first.toUpperCase() : '?';
}

/** Only same-origin http(s) URLs, blob: URLs and data:image URLs may be used as image sources. */
export function safeImageUrl(url: string | null | undefined): string | null {
  if (!url || typeof url !== 'string') return null;
  if (url.startsWith('blob:') || /^data:image\/(png|jpeg|webp|gif);/i.test(url)) return url;
  try {
    const u = new URL(url, window.location.href);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin === window.location.origin) return url;
  } catch {
    /* not a URL */
  }
  return null;
}

export function Avatar({ name, url, size = 44, class: cls = '', removed = false }: { name: string; url?: string | null; size?: number; class?: string; removed?: boolean }) {
  const h = hue(name || '?');
  const src = removed ? null : safeImageUrl(url);
  const style = { width: `${size}px`, height: `${size}px`, '--h': String(h), fontSize: `${Math.round(size * 0.42)}px` };
  if (removed) {
    // A neutral stand-in: no colour or initial from the deleted character.
    return (
      <span class={`avatar avatar-removed ${cls}`} style={style} aria-hidden="true" data-testid="removed-avatar">
        <Icon name="person" size={Math.round(size * 0.6)} />
      </span>
    );
  }
  return src ? (
    <img class={`avatar ${cls}`} src={src} alt="" width={size} height={size} style={style} loading="lazy" />
  ) : (
    <span class={`avatar avatar-mono ${cls}`} style={style} aria-hidden="true">
      {monogram(name)}
    </span>
  );
}

export function PortrayalBadge({ compact = false }: { compact?: boolean }) {
  return (
    <span class={`badge-portrayal${compact ? ' compact' : ''}`} role="note">
      <span aria-hidden="true">◆ </span>
      {t('ai_portrayal')}
    </span>
  );
}

const LANG_LABEL: Record<string, string> = { ko: '한국어', en: 'English', zh: '中文' };
export const langLabel = (l: string) => LANG_LABEL[l] || l.toUpperCase();

export type CardLike = Pick<Character, 'name' | 'tagline' | 'tags' | 'language' | 'real_person' | 'avatar_url'> & { description?: string; mature?: boolean };

export function MatureBadge() {
  return (
    <span class="chip chip-mature" title={t('mature')}>
      <span aria-hidden="true">{t('mature_badge')}</span>
      <span class="sr-only">{t('mature')}</span>
    </span>
  );
}

/** The big photo-style card. `children` are overlays (drag stamps). */
export function CharacterCard({ c, children, expanded = false, user = '' }: { c: CardLike; children?: preact.ComponentChildren; expanded?: boolean; user?: string }) {
  const src = safeImageUrl(c.avatar_url);
  return (
    <article class="card" style={{ '--h': String(hue(c.name || '?')) }} aria-label={c.name}>
      <div class="card-photo">
        {src ? <img src={src} alt="" draggable={false} /> : <div class="card-mono" aria-hidden="true">{monogram(c.name)}</div>}
      </div>
      {c.real_person && (
        <div class="card-top">
          <PortrayalBadge />
        </div>
      )}
      <div class="card-info">
        <h2 class="card-name">
          <span>{c.name || '…'}</span>
          <span class="chip chip-lang">{langLabel(c.language || 'en')}</span>
          {c.mature && <MatureBadge />}
        </h2>
        {c.tagline && (
          <p class="card-tagline">
            <RichText text={c.tagline} char={c.name} user={user} />
          </p>
        )}
        {expanded && c.description && (
          <p class="card-desc">
            <RichText text={c.description} char={c.name} user={user} />
          </p>
        )}
        {c.tags && c.tags.length > 0 && (
          <ul class="tags" aria-label={t('tags')}>
            {c.tags.slice(0, 6).map((tag) => (
              <li class="chip" key={tag}>
                #{tag}
              </li>
            ))}
          </ul>
        )}
      </div>
      {children}
    </article>
  );
}

/** What to tell the user about a failed request: the server's own words, plus when to retry. */
export function errorText(e: unknown): string {
  if (!(e instanceof ApiError)) return t('error_generic');
  return e.status === 429 && e.retryAfter ? `${e.message} ${t('retry_after', { n: e.retryAfter })}` : e.message;
}

export function Spinner() {
  return <div class="spinner" role="status" aria-label={t('loading')} />;
}

export function Empty({ title, hint, children }: { title: string; hint?: string; children?: preact.ComponentChildren }) {
  return (
    <div class="empty">
      <div class="empty-art" aria-hidden="true">🐰</div>
      <h2>{title}</h2>
      {hint && <p>{hint}</p>}
      {children}
    </div>
  );
}
