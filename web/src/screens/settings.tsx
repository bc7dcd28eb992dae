// Settings: persona (name + description), app language, theme, server info, log out.
import { useState } from 'preact/hooks';
import { api, ApiError, type User } from '../api';
import { LANGS, LANG_NAMES, getLang, setLang, t } from '../i18n';
import { applyTheme, initialTheme, navigate, useApp, type Theme } from '../state';

export function SettingsScreen() {
  const { user, setUser, toast, server } = useApp();
  const [name, setName] = useState(user?.display_name || '');
  const [persona, setPersona] = useState(user?.persona || '');
  const [theme, setTheme] = useState<Theme>(initialTheme());
  const [busy, setBusy] = useState(false);

  async function save(e: Event) {
    e.preventDefault();
    if (new TextEncoder().encode(persona).length > 8192) {
      toast(t('too_long', { field: t('persona_description'), max: 8192 }), 'error');
      return;
    }
    setBusy(true);
    try {
      const r = await api<{ user: User }>('PATCH', '/api/me', { display_name: name.trim(), persona });
      setUser(r.user);
      toast(t('saved'));
    } catch (err) {
      toast(err instanceof ApiError ? err.message : t('error_generic'), 'error');
    } finally {
      setBusy(false);
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
        <h2 class="section-title">{t('account')}</h2>
        <p class="muted">{t('signed_in_as', { name: user?.username || '' })}</p>
        {server && (
          <p class="muted small">
            {t('server')}: tokki {server.version}
            {server.model ? ` · ${server.model.name} (${server.model.backend})` : ''}
          </p>
        )}
        <button class="btn danger" onClick={logout}>
          {t('logout')}
        </button>
      </div>
    </section>
  );
}
