// The card deck: swipe left = pass, right = like, up = super like (touch, mouse drag,
// buttons, arrow keys); undo the last pass; prefetches the next cards and their images.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, matureParam, qs, type Character, type Id } from '../api';
import { CharacterCard, Empty, Spinner } from '../components/common';
import { Icon } from '../components/icons';
import { t } from '../i18n';
import { classifySwipe, dragProgress, dragTransform, exitTransform, keyToAction, type SwipeAction } from '../swipe';
import { navigate, useApp } from '../state';
import { ReportDialog } from '../components/report';

interface Filters {
  langs: string[];
  realPeople: boolean;
}

function loadFilters(): Filters {
  try {
    const f = JSON.parse(localStorage.getItem('tokki.deck') || 'null');
    if (f && Array.isArray(f.langs)) return { langs: f.langs, realPeople: f.realPeople !== false };
  } catch {
    /* ignore */
  }
  return { langs: [], realPeople: true };
}

const PREFETCH_BELOW = 4;
const BATCH = 10;

export function DiscoverScreen() {
  const { toast, user } = useApp();
  const [cards, setCards] = useState<Character[]>([]);
  const [loading, setLoading] = useState(true);
  const [exhausted, setExhausted] = useState(false);
  const [filters, setFilters] = useState<Filters>(loadFilters);
  const [showFilters, setShowFilters] = useState(false);
  const [returning, setReturning] = useState<Id | null>(null);
  const [expanded, setExpanded] = useState(false);
  const [reporting, setReporting] = useState<Character | null>(null);
  const seen = useRef(new Set<string>());
  const passed = useRef<Character[]>([]);
  const fetching = useRef(false);
  const busy = useRef(false);
  const topRef = useRef<HTMLDivElement>(null);

  const fetchMore = useCallback(
    async (reset = false) => {
      if (fetching.current) return;
      fetching.current = true;
      try {
        const r = await api<{ cards: Character[] }>('GET', `/api/deck${qs({ limit: BATCH, lang: filters.langs.join(','), real_people: filters.realPeople ? 1 : 0, mature: matureParam(user) })}`);
        const fresh = r.cards.filter((c) => !seen.current.has(String(c.id)));
        fresh.forEach((c) => seen.current.add(String(c.id)));
        // Warm the image cache for the cards about to show.
        fresh.slice(0, 4).forEach((c) => {
          if (c.avatar_url) new Image().src = c.avatar_url;
        });
        setCards((cs) => (reset ? fresh : [...cs, ...fresh]));
        setExhausted(fresh.length === 0);
      } catch (e) {
        toast(e instanceof ApiError ? e.message : t('error_generic'), 'error');
      } finally {
        fetching.current = false;
        setLoading(false);
      }
    },
    [filters, toast, user?.adult_confirmed],
  );

  useEffect(() => {
    seen.current = new Set();
    setLoading(true);
    fetchMore(true);
    try {
      localStorage.setItem('tokki.deck', JSON.stringify(filters));
    } catch {
      /* ignore */
    }
  }, [filters]);

  useEffect(() => {
    if (!loading && !exhausted && cards.length < PREFETCH_BELOW) fetchMore();
  }, [cards.length, loading, exhausted]);

  // Handlers read the deck through a ref: a key press can arrive before effects re-bind.
  const cardsRef = useRef(cards);
  cardsRef.current = cards;

  const act = useCallback(
    async (action: SwipeAction) => {
      const card = cardsRef.current[0];
      const el = topRef.current;
      if (!card || busy.current) return;
      busy.current = true;
      setExpanded(false);
      if (el) {
        el.classList.add('flying');
        el.style.setProperty('--like', action === 'like' ? '1' : '0');
        el.style.setProperty('--pass', action === 'pass' ? '1' : '0');
        el.style.setProperty('--super', action === 'superlike' ? '1' : '0');
        el.style.transform = exitTransform(action, el.offsetWidth || 360);
        el.style.opacity = '0';
      }
      const req = api<{ conversation_id?: Id }>('POST', '/api/deck/swipes', { character_id: card.id, action });
      await new Promise((r) => setTimeout(r, 280));
      setCards((cs) => cs.filter((c) => c.id !== card.id));
      busy.current = false;
      try {
        const r = await req;
        if (action === 'pass') passed.current.push(card);
        else if (r.conversation_id !== undefined && r.conversation_id !== null) {
          toast(t('matched', { name: card.name }));
          navigate(`/chat/${encodeURIComponent(String(r.conversation_id))}`);
        }
      } catch (e) {
        toast(e instanceof ApiError ? e.message : t('error_generic'), 'error');
        setCards((cs) => [card, ...cs]);
      }
    },
    [toast],
  );

  const undo = useCallback(async () => {
    try {
      const r = await api<{ character_id: Id; character?: Character }>('POST', '/api/deck/undo');
      const idx = passed.current.findIndex((c) => String(c.id) === String(r.character_id));
      let card: Character;
      if (idx >= 0) card = passed.current.splice(idx, 1)[0];
      else card = r.character ?? (await api<Character>('GET', `/api/characters/${encodeURIComponent(String(r.character_id))}`));
      setReturning(card.id);
      setCards((cs) => [card, ...cs.filter((c) => c.id !== card.id)]);
      setExhausted(false);
      setTimeout(() => setReturning(null), 400);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) toast(t('nothing_to_undo'));
      else toast(e instanceof ApiError ? e.message : t('error_generic'), 'error');
    }
  }, [toast]);

  const reportingRef = useRef(false);
  reportingRef.current = !!reporting;
  // Arrow keys anywhere on the screen (not while typing in a field or in the report dialog).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const tag = (e.target as HTMLElement)?.tagName;
      if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || e.altKey || e.ctrlKey || e.metaKey || reportingRef.current) return;
      const a = keyToAction(e.key);
      if (a) {
        e.preventDefault();
        act(a);
      } else if (e.key === 'Backspace' || (e.key === 'z' && !e.shiftKey)) {
        e.preventDefault();
        undo();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [act, undo]);

  // Pointer drag on the top card (mouse, touch and pen alike).
  const drag = useRef<{ x: number; y: number; t: number; id: number; dx: number; dy: number } | null>(null);
  const onPointerDown = (e: PointerEvent) => {
    if (busy.current || (e.pointerType === 'mouse' && e.button !== 0)) return;
    const el = topRef.current;
    if (!el) return;
    el.setPointerCapture(e.pointerId);
    el.classList.remove('snapping');
    el.classList.add('dragging');
    drag.current = { x: e.clientX, y: e.clientY, t: performance.now(), id: e.pointerId, dx: 0, dy: 0 };
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    const el = topRef.current;
    if (!d || !el || e.pointerId !== d.id) return;
    d.dx = e.clientX - d.x;
    d.dy = e.clientY - d.y;
    el.style.transform = dragTransform(d.dx, d.dy);
    const p = dragProgress(d.dx, d.dy, el.offsetWidth);
    el.style.setProperty('--like', String(p.like));
    el.style.setProperty('--pass', String(p.pass));
    el.style.setProperty('--super', String(p.superlike));
  };
  const onPointerUp = (e: PointerEvent) => {
    const d = drag.current;
    const el = topRef.current;
    if (!d || !el || e.pointerId !== d.id) return;
    drag.current = null;
    el.classList.remove('dragging');
    const action = classifySwipe({ dx: d.dx, dy: d.dy, dtMs: performance.now() - d.t, width: el.offsetWidth });
    if (!action && Math.abs(d.dx) < 6 && Math.abs(d.dy) < 6) {
      el.style.transform = '';
      setExpanded((x) => !x); // a tap shows or hides the description
      return;
    }
    if (action) {
      act(action);
    } else {
      el.classList.add('snapping');
      el.style.transform = '';
      el.style.setProperty('--like', '0');
      el.style.setProperty('--pass', '0');
      el.style.setProperty('--super', '0');
    }
  };

  const toggleLang = (l: string) => setFilters((f) => ({ ...f, langs: f.langs.includes(l) ? f.langs.filter((x) => x !== l) : [...f.langs, l] }));
  const top = cards[0];

  return (
    <section class="discover" aria-labelledby="discover-title">
      <header class="page-head">
        <h1 id="discover-title">{t('nav_discover')}</h1>
        {top && (
          <button class="icon-btn" onClick={() => setReporting(top)} aria-label={t('report_named', { name: top.name })} title={t('report')}>
            <Icon name="flag" />
          </button>
        )}
        <button class="icon-btn" aria-expanded={showFilters} aria-controls="deck-filters" onClick={() => setShowFilters((s) => !s)} aria-label={t('filters')} title={t('filters')}>
          <Icon name="filter" />
        </button>
      </header>
      {showFilters && (
        <fieldset id="deck-filters" class="filters">
          <legend class="sr-only">{t('filters')}</legend>
          <span class="filters-label">{t('languages')}</span>
          {['ko', 'en', 'zh'].map((l) => (
            <label key={l} class="check-chip">
              <input type="checkbox" checked={filters.langs.includes(l)} onChange={() => toggleLang(l)} />
              <span>{{ ko: '한국어', en: 'English', zh: '中文' }[l]}</span>
            </label>
          ))}
          <label class="check-chip">
            <input type="checkbox" checked={filters.realPeople} onChange={(e) => setFilters((f) => ({ ...f, realPeople: e.currentTarget.checked }))} />
            <span>{t('show_real_people')}</span>
          </label>
        </fieldset>
      )}
      <div class="deck" aria-live="polite">
        {loading && cards.length === 0 ? (
          <Spinner />
        ) : !top ? (
          <Empty title={t('deck_empty')} hint={t('deck_empty_hint')}>
            <button class="btn" onClick={() => { setLoading(true); setExhausted(false); seen.current = new Set(); fetchMore(true); }}>
              <Icon name="refresh" size={18} /> {t('reload')}
            </button>
          </Empty>
        ) : (
          cards
            .slice(0, 3)
            .map((c, i) => (
              <div
                key={String(c.id)}
                ref={i === 0 ? topRef : undefined}
                class={`deck-card depth-${i}${i === 0 && returning === c.id ? ' returning' : ''}`}
                onPointerDown={i === 0 ? onPointerDown : undefined}
                onPointerMove={i === 0 ? onPointerMove : undefined}
                onPointerUp={i === 0 ? onPointerUp : undefined}
                onPointerCancel={i === 0 ? onPointerUp : undefined}
                aria-hidden={i === 0 ? undefined : 'true'}
                data-testid={i === 0 ? 'top-card' : undefined}
              >
                <CharacterCard c={c} expanded={i === 0 && expanded} user={user?.display_name || user?.username || ''}>
                  <div class="stamp stamp-like" aria-hidden="true">{t('like')}</div>
                  <div class="stamp stamp-pass" aria-hidden="true">{t('pass')}</div>
                  <div class="stamp stamp-super" aria-hidden="true">{t('superlike')}</div>
                </CharacterCard>
              </div>
            ))
            .reverse()
        )}
      </div>
      <p class="deck-help">{t('deck_help')}</p>
      <div class="deck-actions" role="group" aria-label={t('nav_discover')}>
        <button class="round-btn sm undo" onClick={undo} aria-label={t('undo')} title={t('undo')}>
          <Icon name="undo" />
        </button>
        <button class="round-btn pass" onClick={() => act('pass')} disabled={!top} aria-label={t('pass')} title={`${t('pass')} (←)`}>
          <Icon name="x" size={30} />
        </button>
        <button class="round-btn super" onClick={() => act('superlike')} disabled={!top} aria-label={t('superlike')} title={`${t('superlike')} (↑)`}>
          <Icon name="star" size={26} />
        </button>
        <button class="round-btn like" onClick={() => act('like')} disabled={!top} aria-label={t('like')} title={`${t('like')} (→)`}>
          <Icon name="heart" size={30} />
        </button>
      </div>
      {reporting && <ReportDialog target={{ kind: 'character', id: reporting.id, name: reporting.name }} onClose={() => setReporting(null)} />}
    </section>
  );
}
