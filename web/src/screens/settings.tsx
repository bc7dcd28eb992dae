// Settings: persona (name + description), app language, theme, the 18+ confirmation,
// server info, log out, the Admin entry for staff, and deleting the account.
import { useState } from 'preact/hooks';
import { api, deleteAccount, isStaff, updateMe } from '../api';
import { errorText } from '../components/common';
import { Icon } from '../components/icons';
import { LANGS, LANG_NAMES, getLang, setLang, t } from '../i18n';
import { applyTheme, initialTheme, navigate, useApp, type Theme } from '../state';

export function SettingsScreen() {
  const { user, setUser, toast, server } = useApp();
  const [name, setName] = useState(user?.display_name || '');
  const [persona, setPersona] = useState(user?.persona || '');
  const [theme, setTheme] = useState<Theme>(initialTheme());
  const [busy, setBusy] = useState(false);
  const [adult, setAdultShown] = useState(!!user?.adult_confirmed);
  const [adultBusy, setAdultBusy] = useState(false);
  const [delPassword, setDelPassword] = useState('');
  const [delError, setDelError] = useState('');
  const [delBusy, setDelBusy] = useState(false);

  async function save(e: Event) {
    e.preventDefault();
    if (new TextEncoder().encode(persona).length > 8192) {
      toast(t('too_long', { field: t('persona_description'), max: 8192 }), 'error');
      return;
    }
    setBusy(true);
    try {
      setUser(await updateMe({ display_name: name.trim(), persona }));
      toast(t('saved'));
    } catch (err) {
      toast(errorText(err), 'error');
    } finally {
      setBusy(false);
    }
  }

  async function setAdult(on: boolean) {
    setAdultShown(on); // shown at once; put back if the server refuses
    setAdultBusy(true);
    try {
      const u = await updateMe({ adult_confirmed: on });
      setUser(u);
      setAdultShown(!!u.adult_confirmed);
      toast(t('saved'));
    } catch (err) {
      setAdultShown(!on);
      toast(errorText(err), 'error');
    } finally {
      setAdultBusy(false);
    }
  }

  async function removeAccount(e: Event) {
    e.preventDefault();
    setDelError('');
    if (!delPassword) {
      setDelError(t('required', { field: t('confirm_password') }));
      document.getElementById('s-del-password')?.focus();
      return;
    }
    if (!window.confirm(t('confirm_delete_account'))) return;
    setDelBusy(true);
    try {
      await deleteAccount(delPassword);
      setUser(null);
      navigate('/login', true);
      toast(t('account_deleted'));
    } catch (err) {
      setDelError(errorText(err));
      setDelBusy(false);
    }
  }

  async function logout() {
    try {
      await api('POST', '/api/auth/logout');
    } catch {
      /* the session is dropped locally either way */
    }
    setUser(null);
    navigate('/login', true);
  }

  return (
    <section class="page settings" aria-labelledby="settings-title">
      <header class="page-head">
        <h1 id="settings-title">{t('settings_title')}</h1>
      </header>
      <form class="panel" onSubmit={save}>
        <h2 class="section-title">{t('persona')}</h2>
        <div class="field">
          <label for="s-name">{t('persona_name')}</label>
          <input id="s-name" value={name} maxLength={64} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="s-persona">{t('persona_description')}</label>
          <textarea id="s-persona" rows={4} value={persona} maxLength={8192} onInput={(e) => setPersona(e.currentTarget.value)} />
        </div>
        <div class="row-end">
          <button class="btn btn-primary" type="submit" disabled={busy}>
            {t('save')}
          </button>
        </div>
      </form>
      <div class="panel">
        <fieldset class="field">
          <legend class="section-title">{t('ui_language')}</legend>
          <div class="segmented">
            {LANGS.map((l) => (
              <label key={l} class={getLang() === l ? 'on' : ''}>
                <input type="radio" name="ui-lang" value={l} checked={getLang() === l} onChange={() => setLang(l)} />
                <span lang={l}>{LANG_NAMES[l]}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset class="field">
          <legend class="section-title">{t('theme')}</legend>
          <div class="segmented">
            {(['light', 'dark'] as Theme[]).map((th) => (
              <label key={th} class={theme === th ? 'on' : ''}>
                <input
                  type="radio"
                  name="theme"
                  value={th}
                  checked={theme === th}
                  onChange={() => {
                    setTheme(th);
                    applyTheme(th);
                  }}
                />
                <span>{t(th === 'light' ? 'theme_light' : 'theme_dark')}</span>
              </label>
            ))}
          </div>
        </fieldset>
      </div>
      <div class="panel">
        <h2 class="section-title" id="s-adult-title">{t('adult_title')}</h2>
        <label class="switch">
          <input id="s-adult" type="checkbox" role="switch" checked={adult} disabled={adultBusy} aria-describedby="s-adult-hint" onChange={(e) => setAdult(e.currentTarget.checked)} />
          <span class="switch-track" aria-hidden="true" />
          <span>{t('adult_confirm')}</span>
        </label>
        <p class="hint" id="s-adult-hint">{t('adult_hint')}</p>
      </div>
      <div class="panel">
        <h2 class="section-title">{t('account')}</h2>
        <p class="muted">{t('signed_in_as', { name: user?.username || '' })}</p>
        {server && (
          <p class="muted small">
            {t('server')}: tokki {server.version}
            {server.model ? ` · ${server.model.name}${server.model.backend ? ` (${server.model.backend})` : ''}` : ''}
          </p>
        )}
        <div class="row-wrap">
          {isStaff(user) && (
            <a class="btn" href="#/admin">
              <Icon name="shield" size={18} /> {t('nav_admin')}
            </a>
          )}
          <button class="btn danger" onClick={logout}>
            {t('logout')}
          </button>
        </div>
      </div>
      <form class="panel danger-zone" onSubmit={removeAccount} aria-labelledby="s-danger-title" noValidate>
        <h2 class="section-title" id="s-danger-title">{t('danger_zone')}</h2>
        <p class="hint">{t('delete_account_hint')}</p>
        <div class="field">
          <label for="s-del-password">{t('confirm_password')}</label>
          <input
            id="s-del-password"
            type="password"
            autocomplete="current-password"
            value={delPassword}
            aria-invalid={!!delError}
            aria-describedby={delError ? 's-del-error' : undefined}
            onInput={(e) => setDelPassword(e.currentTarget.value)}
          />
        </div>
        {delError && (
          <p class="form-error" role="alert" id="s-del-error">
            {delError}
          </p>
        )}
        <button class="btn btn-danger" type="submit" disabled={delBusy}>
          <Icon name="trash" size={18} /> {t('delete_account')}
        </button>
      </form>
    </section>
  );
}
