// App-wide context (current user, toasts, navigation) and the hash router.
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { ServerInfo, User } from './api';

export interface AppCtx {
  user: User | null;
  setUser: (u: User | null) => void;
  server: ServerInfo | null;
  toast: (msg: string, kind?: 'info' | 'error') => void;
}

export const Ctx = createContext<AppCtx>(null as unknown as AppCtx);
export const useApp = () => useContext(Ctx);

export interface Route {
  name: string;
  params: Record<string, string>;
}

const ROUTES: [string, RegExp][] = [
  ['login', /^\/login$/],
  ['signup', /^\/signup$/],
  ['discover', /^\/(?:discover)?$/],
  ['friends', /^\/friends$/],
  ['chat', /^\/chat\/(?<id>[^/]+)$/],
  ['studio', /^\/studio$/],
  ['create', /^\/create$/],
  ['edit', /^\/edit\/(?<id>[^/]+)$/],
  ['character', /^\/character\/(?<id>[^/]+)$/],
  ['import', /^\/import$/],
  ['settings', /^\/settings$/],
  ['admin', /^\/admin(?:\/(?<tab>reports|users|audit|policy))?$/],
];

export function parseHash(hash: string): Route {
  const path = (hash.replace(/^#/, '') || '/').split('?')[0];
  for (const [name, re] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups || {})) if (v !== undefined) params[k] = decodeURIComponent(v);
      return { name, params };
    }
  }
  return { name: 'notfound', params: {} };
}

export function navigate(path: string, replace = false): void {
  const h = `#${path}`;
  if (replace) history.replaceState(null, '', h);
  else window.location.hash = h;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [r, setR] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const f = () => setR(parseHash(window.location.hash));
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return r;
}

export type Theme = 'light' | 'dark';
export function initialTheme(): Theme {
  try {
    const s = localStorage.getItem('tokki.theme');
    if (s === 'light' || s === 'dark') return s;
  } catch {
    /* ignore */
  }
  return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
export function applyTheme(th: Theme): void {
  document.documentElement.dataset.theme = th;
  try {
    localStorage.setItem('tokki.theme', th);
  } catch {
    /* ignore */
  }
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta) meta.setAttribute('content', th === 'dark' ? '#15121a' : '#ffffff');
}
