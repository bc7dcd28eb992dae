// Root component: session bootstrap, demo-model banner, navigation shell, toasts,
// the per-user event channel, and the route switch. Start here.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, isStaff, setUnauthorizedHandler, type ServerInfo, type User } from './api';
import { Icon } from './components/icons';
import { Spinner } from './components/common';
import { getLang, onLangChange, setLang, t, type Key } from './i18n';
import { Ctx, navigate, useRoute } from './state';
import { AuthScreen } from './screens/auth';
import { DiscoverScreen } from './screens/discover';
import { FriendsScreen } from './screens/friends';
import { ChatScreen } from './screens/chat';
import { StudioScreen, CharacterScreen } from './screens/studio';
import { EditorScreen } from './screens/editor';
import { ImportScreen } from './screens/import';
import { SettingsScreen } from './screens/settings';

// The moderation screens are only for staff: loaded on first use, not with the app.
let adminModule: Promise<typeof import('./screens/admin')> | null = null;
function LazyAdmin({ tab }: { tab?: string }) {
  const [Screen, setScreen] = useState<typeof import('./screens/admin').AdminScreen | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    adminModule ??= import('./screens/admin');
    adminModule.then(
      (m) => setScreen(() => m.AdminScreen),
      () => {
        adminModule = null; // let a reload try again
        setFailed(true);
      },
    );
  }, []);
  if (failed) return <p class="page form-error" role="alert">{t('error_generic')}</p>;
  return Screen ? <Screen tab={tab} /> : <Spinner />;
}

interface Toast {
  id: number;
  msg: string;
  kind: 'info' | 'error';
}

const NAV: { path: string; route: string[]; icon: string; label: Key }[] = [
  { path: '/discover', route: ['discover'], icon: 'cards', label: 'nav_discover' },
  { path: '/friends', route: ['friends', 'chat'], icon: 'chat', label: 'nav_friends' },
  { path: '/studio', route: ['studio', 'create', 'edit', 'character', 'import'], icon: 'studio', label: 'nav_studio' },
  { path: '/settings', route: ['settings'], icon: 'settings', label: 'nav_settings' },
];
const ADMIN_NAV = { path: '/admin', route: ['admin'], icon: 'shield', label: 'nav_admin' as Key };

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [server, setServer] = useState<ServerInfo | null>(null);
  const [, setLangTick] = useState(getLang());
  const [toasts, setToasts] = useState<Toast[]>([]);
  const route = useRoute();
  const toastId = useRef(0);

  useEffect(() => {
    setLang(getLang());
    const off = onLangChange((l) => setLangTick(l));
    api<{ user: User }>('GET', '/api/me')
      .then((r) => setUser(r.user))
      .catch(() => setUser(null));
    api<ServerInfo>('GET', '/api/server')
      .then(setServer)
      .catch(() => setServer(null));
    setUnauthorizedHandler(() => setUser(null));
    return () => {
      off();
      setUnauthorizedHandler(null);
    };
  }, []);

  const toast = useCallback((msg: string, kind: 'info' | 'error' = 'info') => {
    const id = ++toastId.current;
    setToasts((ts) => [...ts.slice(-2), { id, msg, kind }]);
    setTimeout(() => setToasts((ts) => ts.filter((x) => x.id !== id)), kind === 'error' ? 6000 : 3500);
  }, []);

  // Per-user event channel: new messages anywhere (also ones a friend writes first).
  useEffect(() => {
    if (!user || typeof EventSource === 'undefined') return;
    const es = new EventSource('/api/events', { withCredentials: true });
    es.addEventListener('message', (e) => {
      try {
        window.dispatchEvent(new CustomEvent('tokki:event', { detail: JSON.parse((e as MessageEvent).data) }));
      } catch {
        /* ignore malformed */
      }
    });
    return () => es.close();
  }, [user?.id]);

  const authRoute = route.name === 'login' || route.name === 'signup';
  useEffect(() => {
    if (user === null && !authRoute) navigate('/login', true);
    if (user && authRoute) navigate('/discover', true);
  }, [user, authRoute]);

  // Move focus to the new screen on navigation (not on first load), for screen readers.
  const firstRoute = useRef(true);
  useEffect(() => {
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    if (route.name !== 'chat') document.getElementById('main')?.focus({ preventScroll: true });
  }, [route.name, route.params.id]);

  useEffect(() => {
    document.title = `${t('app_name')} · ${t(([...NAV, ADMIN_NAV].find((n) => n.route.includes(route.name))?.label || 'tagline') as Key)}`;
  });

  let body;
  if (user === undefined) body = <Spinner />;
  else if (authRoute || !user) body = <AuthScreen mode={route.name === 'signup' ? 'signup' : 'login'} />;
  else {
    switch (route.name) {
      case 'discover':
        body = <DiscoverScreen />;
        break;
      case 'friends':
        body = <FriendsScreen />;
        break;
      case 'chat':
        body = (
          <div class="chat-split">
            <FriendsScreen pane activeId={route.params.id} />
            <ChatScreen key={route.params.id} id={route.params.id} />
          </div>
        );
        break;
      case 'studio':
        body = <StudioScreen />;
        break;
      case 'create':
        body = <EditorScreen key="new" />;
        break;
      case 'edit':
        body = <EditorScreen key={route.params.id} id={route.params.id} />;
        break;
      case 'character':
        body = <CharacterScreen key={route.params.id} id={route.params.id} />;
        break;
      case 'import':
        body = <ImportScreen />;
        break;
      case 'settings':
        body = <SettingsScreen />;
        break;
      case 'admin':
        body = isStaff(user) ? (
          <LazyAdmin tab={route.params.tab} />
        ) : (
          <p class="page">{t('not_found')}</p>
        );
        break;
      default:
        body = <p class="page">{t('not_found')}</p>;
    }
  }

  const showNav = !!user && !authRoute;
  const nav = isStaff(user) ? [...NAV, ADMIN_NAV] : NAV;
  return (
    <Ctx.Provider value={{ user: user ?? null, setUser, server, toast }}>
      <a class="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        {t('skip_to_content')}
      </a>
      <div class={`shell${showNav ? ' with-nav' : ''} route-${route.name}`}>
        {server && (server.model === null || server.model?.is_generated) && (
          <div class="demo-banner" role="status">
            <span aria-hidden="true">⚠︎ </span>
            {server.model === null ? t('no_model_banner') : t('demo_banner')}
          </div>
        )}
        {showNav && (
          <nav class="nav" aria-label={t('main_nav')}>
            <div class="nav-brand" aria-hidden="true">
              <span class="logo">🐰</span> {t('app_name')}
            </div>
            {nav.map((n) => {
              const active = n.route.includes(route.name);
              return (
                <a key={n.path} href={`#${n.path}`} class={`nav-item${active ? ' active' : ''}`} aria-current={active ? 'page' : undefined}>
                  <Icon name={n.icon} />
                  <span>{t(n.label)}</span>
                </a>
              );
            })}
          </nav>
        )}
        <main id="main" tabIndex={-1} class="main">
          {body}
        </main>
      </div>
      <div class="toasts" aria-live="polite">
        {toasts.map((x) => (
          <div key={x.id} class={`toast toast-${x.kind}`} role={x.kind === 'error' ? 'alert' : 'status'}>
            {x.msg}
          </div>
        ))}
      </div>
    </Ctx.Provider>
  );
}
