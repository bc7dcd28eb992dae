// Moderation for moderators and admins: reports (with the reported character or the message
// in its context, and the actions dismiss / hide character / suspend owner), users (search,
// suspend, roles — roles by admins only), the audit log, and the content policy (admins only).
// Loaded lazily: none of this is in the first-screen bundle.
import { useEffect, useRef, useState } from 'preact/hooks';
import { admin, enc, type AdminUser, type AuditEntry, type Id, type Policy, type PolicyRule, type Report, type ReportStatus, type Role } from '../api';
import { Avatar, Empty, errorText, Spinner } from '../components/common';
import { Icon } from '../components/icons';
import { DICTS, LANG_NAMES, getLang, t, type Key, type Lang } from '../i18n';
import { isAdminKey, ta, type AdminKey } from './admin-i18n';
import { useApp } from '../state';
import './admin.css';

type Tab = 'reports' | 'users' | 'audit' | 'policy';

/** Milliseconds from a server time (milliseconds, or seconds from older servers). */
const toMs = (x: number | null | undefined): number => (!x ? 0 : x < 1e12 ? x * 1000 : x);
export function fmtTime(x: number | null | undefined): string {
  if (!x) return '';
  const l = getLang();
  return new Date(toMs(x)).toLocaleString(l === 'zh' ? 'zh-CN' : l, { dateStyle: 'medium', timeStyle: 'short' });
}
const has = (k: string): k is Key => k in DICTS.en;
/** A localized label for a report reason; unknown ones from a newer server show as sent. */
export const reasonLabel = (r: string): string => (has(`reason_${r}`) ? t(`reason_${r}` as Key) : r);

export function AdminScreen({ tab = 'reports' }: { tab?: string }) {
  const { user } = useApp();
  const isAdmin = user?.role === 'admin';
  const tabs: Tab[] = isAdmin ? ['reports', 'users', 'audit', 'policy'] : ['reports', 'users', 'audit'];
  const cur: Tab = (['reports', 'users', 'audit', 'policy'] as string[]).includes(tab) ? (tab as Tab) : 'reports';
  return (
    <section class="page admin" aria-labelledby="admin-title">
      <header class="page-head">
        <h1 id="admin-title">{t('nav_admin')}</h1>
      </header>
      <nav class="admin-tabs" aria-label={ta('admin_sections')}>
        {tabs.map((k) => (
          <a key={k} href={`#/admin/${k}`} class={`admin-tab${cur === k ? ' on' : ''}`} aria-current={cur === k ? 'page' : undefined}>
            {ta(`tab_${k}`)}
          </a>
        ))}
      </nav>
      {cur === 'reports' && <ReportsTab />}
      {cur === 'users' && <UsersTab />}
      {cur === 'audit' && <AuditTab />}
      {cur === 'policy' && (isAdmin ? <PolicyTab /> : <p class="notice">{ta('policy_admin_only')}</p>)}
    </section>
  );
}

/** A page-by-page list: `fetch(cursor)` answers items and the next cursor (null at the end). */
function usePaged<T>(fetch: (cursor: Id | null) => Promise<{ items: T[]; next: Id | null }>, deps: unknown[]) {
  const { toast } = useApp();
  const [items, setItems] = useState<T[] | null>(null);
  const [next, setNext] = useState<Id | null>(null);
  const [loading, setLoading] = useState(false);
  const seq = useRef(0);
  async function load(reset: boolean) {
    const my = ++seq.current;
    setLoading(true);
    try {
      const r = await fetch(reset ? null : next);
      if (my !== seq.current) return;
      setItems((xs) => (reset ? r.items : [...(xs || []), ...r.items]));
      setNext(r.next ?? null);
    } catch (e) {
      if (my !== seq.current) return;
      setItems((xs) => xs || []);
      toast(errorText(e), 'error');
    } finally {
      if (my === seq.current) setLoading(false);
    }
  }
  useEffect(() => {
    setItems(null);
    setNext(null);
    load(true);
  }, deps);
  return { items, setItems, next, loading, reload: () => load(true), more: () => load(false) };
}

function LoadMore({ show, loading, onClick }: { show: boolean; loading: boolean; onClick: () => void }) {
  if (!show) return null;
  return (
    <div class="load-more">
      <button class="btn" onClick={onClick} disabled={loading}>
        {ta('load_more')}
      </button>
    </div>
  );
}

// ---------- reports

function ReportsTab() {
  const { toast } = useApp();
  const [status, setStatus] = useState<ReportStatus>('open');
  const [busy, setBusy] = useState<Id | null>(null);
  const list = usePaged<Report>(async (c) => {
    const r = await admin.reports(status, c);
    return { items: r.items, next: r.next_before };
  }, [status]);

  async function act(r: Report, what: 'dismiss' | 'hide' | 'unhide' | 'suspend') {
    const ch = r.character;
    if (what === 'hide' && ch && !window.confirm(ta('confirm_hide', { name: ch.name }))) return;
    if (what === 'suspend' && ch?.owner && !window.confirm(ta('confirm_suspend', { name: ch.owner.username }))) return;
    // An action taken on an open report resolves it.
    const reportId = r.status === 'open' ? r.id : null;
    setBusy(r.id);
    try {
      if (what === 'dismiss') {
        await admin.dismiss(r.id);
        toast(ta('dismissed_done'));
      } else if ((what === 'hide' || what === 'unhide') && ch) {
        await admin.hideCharacter(ch.id, what === 'hide', reportId);
        toast(ta(what === 'hide' ? 'hidden_done' : 'unhidden_done', { name: ch.name }));
      } else if (what === 'suspend' && ch?.owner) {
        await admin.suspendUser(ch.owner.id, true, reportId);
        toast(ta('suspended_done', { name: ch.owner.username }));
      }
      // Resolved reports leave the open list: show what the server now holds.
      await list.reload();
    } catch (e) {
      toast(errorText(e), 'error');
    } finally {
      setBusy(null);
    }
  }

  return (
    <div class="admin-body">
      <fieldset class="field admin-filter">
        <legend class="sr-only">{ta('report_status')}</legend>
        <div class="segmented">
          {(['open', 'dismissed', 'actioned'] as ReportStatus[]).map((s) => (
            <label key={s} class={status === s ? 'on' : ''}>
              <input type="radio" name="report-status" value={s} checked={status === s} onChange={() => setStatus(s)} />
              <span>{ta(`status_${s}`)}</span>
            </label>
          ))}
        </div>
      </fieldset>
      {list.items === null ? (
        <Spinner />
      ) : list.items.length === 0 ? (
        <Empty title={ta('no_reports')} />
      ) : (
        <ul class="report-list">
          {list.items.map((r) => (
            <li key={String(r.id)}>
              <ReportCard r={r} busy={busy === r.id} onAct={(w) => act(r, w)} />
            </li>
          ))}
        </ul>
      )}
      <LoadMore show={!!list.next} loading={list.loading} onClick={list.more} />
    </div>
  );
}

function ReportCard({ r, busy, onAct }: { r: Report; busy: boolean; onAct: (what: 'dismiss' | 'hide' | 'unhide' | 'suspend') => void }) {
  const ch = r.character;
  const open = r.status === 'open';
  return (
    <article class="report" data-testid="report" data-report-id={String(r.id)} aria-label={`${reasonLabel(r.reason)} · ${ch?.name || ''}`}>
      <header class="report-head">
        <span class="chip chip-reason">{reasonLabel(r.reason)}</span>
        <span class="muted small">
          {ta(r.target_kind === 'message' ? 'kind_message' : 'kind_character')} #{String(r.target_id)}
        </span>
        <time class="muted small report-time" dateTime={new Date(toMs(r.created_at)).toISOString()}>
          {fmtTime(r.created_at)}
        </time>
      </header>
      {ch && (
        <div class="report-char">
          <Avatar name={ch.name} url={ch.avatar_url} size={48} removed={ch.removed} />
          <div class="report-char-text">
            <div class="report-char-name">
              {ch.removed ? <strong>{ch.name}</strong> : <a href={`#/character/${enc(ch.id)}`}>{ch.name}</a>}
              {ch.hidden && <span class="chip chip-warn">{t('chip_hidden')}</span>}
              {ch.removed && <span class="chip chip-warn">{ta('chip_removed')}</span>}
            </div>
            {ch.tagline && <p class="report-char-tag">{ch.tagline}</p>}
            <p class="muted small">{ch.owner ? ta('owned_by', { name: ch.owner.username }) : ta('owner_gone')}</p>
          </div>
        </div>
      )}
      {r.target_kind === 'message' && r.context && r.context.length > 0 && (
        <ol class="report-context" aria-label={ta('kind_message')}>
          {r.context.map((m) => (
            <li key={String(m.id)} class={`ctx-msg ctx-${m.role}${m.reported ? ' reported' : ''}`} data-reported={m.reported ? 'true' : undefined}>
              <span class="ctx-who">
                {m.role === 'user' ? ta('role_user') : ch?.name || ta('kind_character')}
                {m.reported && <span class="chip chip-reported">{ta('reported_message')}</span>}
              </span>
              <span class="ctx-text">{m.content}</span>
            </li>
          ))}
        </ol>
      )}
      {r.note && <blockquote class="report-note">{r.note}</blockquote>}
      <p class="muted small report-meta">
        {ta('reported_by', { name: r.reporter?.username || '?' })}
        {r.resolved_by && ` · ${ta('resolved_by', { name: r.resolved_by.username })}`}
        {r.resolved_at ? ` · ${fmtTime(r.resolved_at)}` : ''}
      </p>
      <div class="row-wrap report-actions">
        {open && (
          <button class="btn btn-sm" disabled={busy} onClick={() => onAct('dismiss')}>
            {ta('dismiss')}
          </button>
        )}
        {ch && !ch.removed && !ch.hidden && (
          <button class="btn btn-sm btn-warn" disabled={busy} onClick={() => onAct('hide')}>
            <Icon name="lock" size={16} /> {ta('hide_character')}
          </button>
        )}
        {ch && !ch.removed && ch.hidden && !open && (
          <button class="btn btn-sm" disabled={busy} onClick={() => onAct('unhide')}>
            {ta('unhide_character')}
          </button>
        )}
        {open && r.target_kind === 'character' && ch?.owner && (
          <button class="btn btn-sm danger" disabled={busy} onClick={() => onAct('suspend')}>
            {ta('suspend_owner')}
          </button>
        )}
      </div>
    </article>
  );
}

// ---------- users

const ROLES: Role[] = ['user', 'moderator', 'admin'];

function UsersTab() {
  const { user, toast } = useApp();
  const isAdmin = user?.role === 'admin';
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [busy, setBusy] = useState<Id | null>(null);
  const list = usePaged<AdminUser>(async (c) => {
    const r = await admin.users(query, c);
    return { items: r.items, next: r.next_after };
  }, [query]);
  useEffect(() => {
    const h = setTimeout(() => setQuery(q.trim()), 300);
    return () => clearTimeout(h);
  }, [q]);

  const replace = (u: AdminUser) => list.setItems((xs) => (xs ? xs.map((x) => (String(x.id) === String(u.id) ? { ...x, ...u } : x)) : xs));

  async function toggleSuspend(u: AdminUser) {
    if (!u.suspended && !window.confirm(ta('confirm_suspend', { name: u.username }))) return;
    setBusy(u.id);
    try {
      replace(await admin.suspendUser(u.id, !u.suspended));
      toast(ta(u.suspended ? 'unsuspended_done' : 'suspended_done', { name: u.username }));
    } catch (e) {
      toast(errorText(e), 'error');
    } finally {
      setBusy(null);
    }
  }

  async function changeRole(u: AdminUser, role: Role, el: HTMLSelectElement) {
    setBusy(u.id);
    try {
      replace(await admin.setRole(u.id, role));
      toast(ta('role_changed', { name: u.username, role: ta(`role_${role}`) }));
    } catch (e) {
      el.value = u.role; // the select shows the role the server kept
      toast(errorText(e), 'error');
    } finally {
      setBusy(null);
    }
  }

  return (
    <div class="admin-body">
      <form
        class="admin-search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(q.trim());
        }}
      >
        <label class="sr-only" for="admin-user-q">
          {ta('search_users')}
        </label>
        <input id="admin-user-q" type="search" value={q} placeholder={ta('search_users')} autocomplete="off" onInput={(e) => setQ(e.currentTarget.value)} />
        <button class="btn" type="submit">
          {ta('search')}
        </button>
      </form>
      {!isAdmin && <p class="hint">{ta('roles_admin_only')}</p>}
      {list.items === null ? (
        <Spinner />
      ) : list.items.length === 0 ? (
        <Empty title={ta('no_users')} />
      ) : (
        <ul class="user-list">
          {list.items.map((u) => {
            const self = String(u.id) === String(user?.id);
            return (
              <li key={String(u.id)} class="user-row" data-testid="user-row" data-username={u.username}>
                <div class="user-main">
                  <strong class="user-name">{u.username}</strong>
                  {self && <span class="muted small"> {ta('you_marker')}</span>}
                  {u.suspended && <span class="chip chip-warn">{ta('chip_suspended')}</span>}
                  <span class="muted small user-joined">{ta('joined', { date: fmtTime(u.created_at) })}</span>
                </div>
                <div class="user-actions">
                  {isAdmin ? (
                    <select aria-label={ta('role_of', { name: u.username })} value={u.role} disabled={self || busy === u.id} onChange={(e) => changeRole(u, e.currentTarget.value as Role, e.currentTarget)}>
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {ta(`role_${r}`)}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <span class="chip chip-vis">{isAdminKey(`role_${u.role}`) ? ta(`role_${u.role}` as AdminKey) : u.role}</span>
                  )}
                  <button class={`btn btn-sm${u.suspended ? '' : ' danger'}`} disabled={self || busy === u.id} onClick={() => toggleSuspend(u)} aria-label={`${ta(u.suspended ? 'unsuspend' : 'suspend')} ${u.username}`}>
                    {ta(u.suspended ? 'unsuspend' : 'suspend')}
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}
      <LoadMore show={!!list.next} loading={list.loading} onClick={list.more} />
    </div>
  );
}

// ---------- audit log

export function detailText(d: unknown): string {
  if (d === null || d === undefined || d === '') return '';
  const s = typeof d === 'string' ? d : JSON.stringify(d);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

function AuditTab() {
  const list = usePaged<AuditEntry>(async (c) => {
    const r = await admin.audit(c);
    return { items: r.items, next: r.next_before };
  }, []);
  return (
    <div class="admin-body">
      {list.items === null ? (
        <Spinner />
      ) : list.items.length === 0 ? (
        <Empty title={ta('no_audit')} />
      ) : (
        <ol class="audit-list">
          {list.items.map((a) => {
            const detail = detailText(a.detail);
            return (
              <li key={String(a.id)} class="audit-row" data-testid="audit-row">
                <time class="muted small" dateTime={new Date(toMs(a.created_at)).toISOString()}>
                  {fmtTime(a.created_at)}
                </time>
                <span class="audit-what">
                  <strong>{a.actor?.username || '?'}</strong> <code class="audit-action">{a.action}</code>{' '}
                  <span class="audit-target">
                    {a.target_kind} #{String(a.target_id ?? '')}
                  </span>
                </span>
                {detail && <span class="muted small audit-detail">{detail}</span>}
              </li>
            );
          })}
        </ol>
      )}
      <LoadMore show={!!list.next} loading={list.loading} onClick={list.more} />
    </div>
  );
}

// ---------- content policy (admins)

const RULE_LANGS = ['', 'en', 'ko', 'zh'];

function PolicyTab() {
  const { toast } = useApp();
  const [p, setP] = useState<Policy | null>(null);
  const [loadError, setLoadError] = useState('');
  const [error, setError] = useState('');
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    admin
      .policy()
      .then((x) => setP({ rules: x.rules || [], check_replies: !!x.check_replies, require_adult_confirmation: !!x.require_adult_confirmation }))
      .catch((e) => setLoadError(errorText(e)));
  }, []);

  if (loadError) return <p class="form-error" role="alert">{loadError}</p>;
  if (!p) return <Spinner />;
  const setRule = (i: number, patch: Partial<PolicyRule>) => setP({ ...p, rules: p.rules.map((r, j) => (j === i ? { ...r, ...patch } : r)) });

  async function save(e: Event) {
    e.preventDefault();
    if (!p) return;
    setSaving(true);
    setError('');
    try {
      const r = await admin.savePolicy(p);
      setP({ rules: r.rules || [], check_replies: !!r.check_replies, require_adult_confirmation: !!r.require_adult_confirmation });
      toast(ta('policy_saved'));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSaving(false);
    }
  }

  return (
    <form class="admin-body policy" onSubmit={save} noValidate>
      <div class="panel">
        <label class="switch">
          <input type="checkbox" role="switch" checked={p.check_replies} onChange={(e) => setP({ ...p, check_replies: e.currentTarget.checked })} />
          <span class="switch-track" aria-hidden="true" />
          <span>{ta('check_replies')}</span>
        </label>
        <label class="switch">
          <input type="checkbox" role="switch" checked={p.require_adult_confirmation} onChange={(e) => setP({ ...p, require_adult_confirmation: e.currentTarget.checked })} />
          <span class="switch-track" aria-hidden="true" />
          <span>{ta('require_adult')}</span>
        </label>
      </div>
      <h2 class="section-title">{ta('policy_rules')}</h2>
      <p class="hint">{ta('policy_hint')}</p>
      <div class="rule-table" role="table" aria-label={ta('policy_rules')}>
        <div class="rule-row rule-head" role="row">
          <span role="columnheader">{ta('rule_language')}</span>
          <span role="columnheader">{ta('rule_type')}</span>
          <span role="columnheader">{ta('rule_text')}</span>
          <span role="columnheader">{ta('rule_action')}</span>
          <span role="columnheader" class="sr-only">{t('remove')}</span>
        </div>
        {p.rules.map((r, i) => {
          const n = i + 1;
          const label = (k: AdminKey) => `${ta('rule_n', { n })}: ${ta(k)}`;
          const langs = RULE_LANGS.includes(r.language) ? RULE_LANGS : [...RULE_LANGS, r.language];
          return (
            <div class="rule-row" role="row" key={i} data-testid="rule-row">
              <span role="cell" class="rule-lang">
                <select aria-label={label('rule_language')} value={r.language} onChange={(e) => setRule(i, { language: e.currentTarget.value })}>
                  {langs.map((l) => (
                    <option key={l} value={l}>
                      {l === '' ? ta('all_languages') : LANG_NAMES[l as Lang] || l}
                    </option>
                  ))}
                </select>
              </span>
              <span role="cell" class="rule-type">
                <select aria-label={label('rule_type')} value={r.type} onChange={(e) => setRule(i, { type: e.currentTarget.value as PolicyRule['type'] })}>
                  <option value="term">{ta('type_term')}</option>
                  <option value="pattern">{ta('type_pattern')}</option>
                </select>
              </span>
              <span role="cell" class="rule-text">
                <input aria-label={label('rule_text')} placeholder={ta('rule_text')} value={r.text} spellcheck={false} onInput={(e) => setRule(i, { text: e.currentTarget.value })} />
              </span>
              <span role="cell" class="rule-action">
                <select aria-label={label('rule_action')} value={r.action} onChange={(e) => setRule(i, { action: e.currentTarget.value as PolicyRule['action'] })}>
                  <option value="block">{ta('action_block')}</option>
                  <option value="review">{ta('action_review')}</option>
                </select>
              </span>
              <span role="cell" class="rule-remove">
                <button type="button" class="icon-btn" aria-label={ta('remove_rule', { n })} title={ta('remove_rule', { n })} onClick={() => setP({ ...p, rules: p.rules.filter((_, j) => j !== i) })}>
                  <Icon name="trash" size={18} />
                </button>
              </span>
            </div>
          );
        })}
      </div>
      {p.rules.length === 0 && <p class="muted">{ta('no_rules')}</p>}
      <div class="row-wrap">
        <button type="button" class="btn btn-sm" onClick={() => setP({ ...p, rules: [...p.rules, { language: '', type: 'term', text: '', action: 'block' }] })}>
          <Icon name="plus" size={16} /> {ta('add_rule')}
        </button>
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <div class="row-end sticky-actions">
        <button type="submit" class="btn btn-primary" disabled={saving}>
          {t('save')}
        </button>
      </div>
    </form>
  );
}
