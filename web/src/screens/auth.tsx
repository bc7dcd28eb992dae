// Sign up / log in.
import { useState } from 'preact/hooks';
import { api, ApiError, type User } from '../api';
import { LANGS, LANG_NAMES, getLang, setLang, t } from '../i18n';
import { useApp } from '../state';

export function validateCredentials(username: string, password: string, signup: boolean): { username?: string; password?: string } {
  const e: { username?: string; password?: string } = {};
  if (signup && !/^[A-Za-z0-9_.-]{3,32}$/.test(username)) e.username = t('err_username');
  if (!signup && !username.trim()) e.username = t('required', { field: t('username') });
  if (signup && password.length < 8) e.password = t('err_password');
  if (!signup && !password) e.password = t('required', { field: t('password') });
  return e;
}

export function AuthScreen({ mode }: { mode: 'login' | 'signup' }) {
  const { setUser } = useApp();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ username?: string; password?: string }>({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const signup = mode === 'signup';

  async function submit(e: Event) {
    e.preventDefault();
    const v = validateCredentials(username, password, signup);
    setErrors(v);
    setFormError('');
    if (v.username || v.password) return;
    setBusy(true);
    try {
      const r = await api<{ user: User }>('POST', signup ? '/api/auth/register' : '/api/auth/login', { username, password });
      setUser(r.user);
    } catch (err) {
      setFormError(err instanceof ApiError ? err.message : t('error_generic'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="auth">
      <div class="auth-hero" aria-hidden="true">
        <div class="auth-bunny">🐰</div>
      </div>
      <form class="auth-card" onSubmit={submit} noValidate>
        <h1 class="auth-title">{t('app_name')}</h1>
        <p class="auth-sub">{t('tagline')}</p>
        <h2 class="auth-mode">{signup ? t('signup') : t('login')}</h2>
        <div class="field">
          <label for="auth-username">{t('username')}</label>
          <input id="auth-username" name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} aria-invalid={!!errors.username} aria-describedby={errors.username ? 'auth-username-err' : undefined} />
          {errors.username && <p class="field-error" id="auth-username-err">{errors.username}</p>}
        </div>
        <div class="field">
          <label for="auth-password">{t('password')}</label>
          <input id="auth-password" name="password" type="password" autocomplete={signup ? 'new-password' : 'current-password'} value={password} onInput={(e) => setPassword(e.currentTarget.value)} aria-invalid={!!errors.password} aria-describedby={errors.password ? 'auth-password-err' : undefined} />
          {errors.password && <p class="field-error" id="auth-password-err">{errors.password}</p>}
        </div>
        {formError && <p class="form-error" role="alert">{formError}</p>}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
          {signup ? t('signup') : t('login')}
        </button>
        <a class="auth-switch" href={signup ? '#/login' : '#/signup'}>
          {signup ? t('have_account') : t('need_account')}
        </a>
        <div class="auth-langs" role="group" aria-label={t('ui_language')}>
          {LANGS.map((l) => (
            <button type="button" key={l} class={`link-btn${getLang() === l ? ' active' : ''}`} aria-pressed={getLang() === l} onClick={() => setLang(l)}>
              {LANG_NAMES[l]}
            </button>
          ))}
        </div>
      </form>
    </div>
  );
}
