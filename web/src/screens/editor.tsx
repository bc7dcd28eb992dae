// Create / edit a character, with validation and a live card preview.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, enc, request, type Character, type CharacterDraft } from '../api';
import { CharacterCard, errorText, Spinner } from '../components/common';
import { DraftDialog } from '../components/draft';
import { Icon } from '../components/icons';
import { t, type Key } from '../i18n';
import { navigate, useApp } from '../state';

export interface Draft {
  name: string;
  tagline: string;
  description: string;
  personality: string;
  scenario: string;
  first_mes: string;
  alternate_greetings: string[];
  mes_example: string;
  tags: string;
  language: string;
  visibility: 'private' | 'unlisted' | 'public';
  real_person: boolean;
  mature: boolean;
}

export const LIMITS: Partial<Record<keyof Draft, number>> = {
  name: 128,
  tagline: 300,
  description: 20000,
  personality: 10000,
  scenario: 10000,
  first_mes: 10000,
  mes_example: 20000,
  tags: 500,
};

const LABELS: Record<string, Key> = {
  name: 'name', tagline: 'card_tagline', description: 'description', personality: 'personality', scenario: 'scenario',
  first_mes: 'greeting', mes_example: 'example_dialogues', tags: 'tags',
};

export function parseTags(s: string): string[] {
  const seen = new Set<string>();
  return s
    .split(/[,，、#\n]/)
    .map((x) => x.trim())
    .filter((x) => x && !seen.has(x.toLowerCase()) && seen.add(x.toLowerCase()))
    .map((x) => [...x].slice(0, 48).join(''))
    .slice(0, 32);
}

export function validateDraft(d: Draft): Partial<Record<keyof Draft, string>> {
  const e: Partial<Record<keyof Draft, string>> = {};
  if (!d.name.trim()) e.name = t('required', { field: t('name') });
  if (!d.first_mes.trim()) e.first_mes = t('required', { field: t('greeting') });
  for (const [k, max] of Object.entries(LIMITS) as [keyof Draft, number][]) {
    const v = d[k];
    if (typeof v === 'string' && [...v].length > max && !e[k]) e[k] = t('too_long', { field: t(LABELS[k]), max });
  }
  return e;
}

/** The form with a model's draft filled in; what the draft has no say in is kept. */
export function applyDraft(d: Draft, x: CharacterDraft): Draft {
  return {
    ...d,
    name: x.name,
    tagline: x.tagline,
    description: x.description,
    personality: x.personality,
    scenario: x.scenario,
    first_mes: x.first_mes,
    mes_example: x.mes_example,
    tags: x.tags.join(', '),
    language: x.language || d.language,
  };
}

const empty = (): Draft => ({
  name: '', tagline: '', description: '', personality: '', scenario: '', first_mes: '', alternate_greetings: [], mes_example: '',
  tags: '', language: 'en', visibility: 'private', real_person: false, mature: false,
});

export function EditorScreen({ id }: { id?: string }) {
  const { toast } = useApp();
  const [d, setD] = useState<Draft | null>(id ? null : empty());
  const [orig, setOrig] = useState<Character | null>(null);
  const [errors, setErrors] = useState<Partial<Record<keyof Draft, string>>>({});
  const [formError, setFormError] = useState('');
  const [avatar, setAvatar] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [drafting, setDrafting] = useState(false);
  const [drafted, setDrafted] = useState(false);
  const avatarUrl = useMemo(() => (avatar ? URL.createObjectURL(avatar) : null), [avatar]);
  useEffect(() => () => { if (avatarUrl) URL.revokeObjectURL(avatarUrl); }, [avatarUrl]);

  useEffect(() => {
    if (!id) return;
    api<Character>('GET', `/api/characters/${enc(id)}`)
      .then((c) => {
        setOrig(c);
        setD({
          name: c.name, tagline: c.tagline || '', description: c.description || '', personality: c.personality || '', scenario: c.scenario || '',
          first_mes: c.first_mes || '', alternate_greetings: c.alternate_greetings || [], mes_example: c.mes_example || '',
          tags: (c.tags || []).join(', '), language: c.language || 'en', visibility: c.visibility, real_person: c.real_person,
          mature: !!c.mature,
        });
      })
      .catch((e) => toast(e instanceof ApiError ? e.message : t('error_generic'), 'error'));
  }, [id]);

  if (!d) return <Spinner />;
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setD({ ...d, [k]: v });
    if (errors[k]) {
      const rest = { ...errors, [k]: undefined };
      setErrors(rest);
      if (!Object.values(rest).some(Boolean)) setFormError('');
    }
  };

  async function submit(e: Event) {
    e.preventDefault();
    if (!d) return;
    const v = validateDraft(d);
    setErrors(v);
    setFormError('');
    if (Object.values(v).some(Boolean)) {
      setFormError(t('fix_errors'));
      const first = Object.keys(v)[0];
      document.getElementById(`f-${first}`)?.focus();
      return;
    }
    setBusy(true);
    const body = { ...d, tags: parseTags(d.tags), alternate_greetings: d.alternate_greetings.filter((g) => g.trim()) };
    try {
      const c = id ? await api<Character>('PATCH', `/api/characters/${enc(id)}`, body) : await api<Character>('POST', '/api/characters', body);
      if (avatar) await request('PUT', `/api/characters/${enc(c.id)}/avatar`, avatar, { headers: { 'Content-Type': avatar.type || 'application/octet-stream' } });
      toast(id ? t('saved') : t('created'));
      navigate(`/character/${enc(c.id)}`);
    } catch (err) {
      setFormError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const field = (k: keyof Draft, opts: { area?: boolean; rows?: number; hint?: string; required?: boolean } = {}) => {
    const label = t(LABELS[k]);
    const val = d[k] as string;
    const errId = `f-${k}-err`;
    const hintId = `f-${k}-hint`;
    const describedBy = [errors[k] ? errId : '', opts.hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
    const common = {
      id: `f-${k}`, name: k, value: val, 'aria-invalid': !!errors[k], 'aria-describedby': describedBy, 'aria-required': opts.required || undefined,
      onInput: (e: Event) => set(k, (e.currentTarget as HTMLInputElement).value as never),
    };
    return (
      <div class="field">
        <label for={`f-${k}`}>
          {label}
          {opts.required && <span class="req" aria-hidden="true"> *</span>}
        </label>
        {opts.area ? <textarea rows={opts.rows || 3} {...common} /> : <input {...common} />}
        {opts.hint && <p class="hint" id={hintId}>{opts.hint}</p>}
        {errors[k] && <p class="field-error" id={errId}>{errors[k]}</p>}
      </div>
    );
  };

  const preview = {
    name: d.name, tagline: d.tagline, tags: parseTags(d.tags), language: d.language, real_person: d.real_person,
    avatar_url: avatarUrl || orig?.avatar_url || null, description: d.description, mature: d.mature,
  };

  return (
    <section class="page editor" aria-labelledby="editor-title">
      <header class="page-head">
        <a class="icon-btn" href={id ? `#/character/${enc(id)}` : '#/studio'} aria-label={t('back')}>
          <Icon name="back" />
        </a>
        <h1 id="editor-title">{id ? t('edit_character') : t('create_character')}</h1>
        {!id && (
          <button type="button" class="btn btn-sm draft-btn" onClick={() => setDrafting(true)}>
            <span aria-hidden="true">✨ </span>
            {t('draft_ai')}
          </button>
        )}
      </header>
      {drafted && (
        <p class="draft-filled" role="status">
          {t('draft_filled')}
        </p>
      )}
      {drafting && (
        <DraftDialog
          language={d.language}
          onClose={() => setDrafting(false)}
          onDraft={(x) => {
            setD(applyDraft(d, x));
            setErrors({});
            setFormError('');
            setDrafted(true);
            setDrafting(false);
          }}
        />
      )}
      <div class="editor-layout">
        <form class="editor-form" onSubmit={submit} noValidate>
          {field('name', { required: true })}
          {field('tagline')}
          {field('description', { area: true, rows: 4 })}
          {field('personality', { area: true })}
          {field('scenario', { area: true })}
          {field('first_mes', { area: true, rows: 3, required: true })}
          <fieldset class="field">
            <legend>{t('alternate_greetings')}</legend>
            {d.alternate_greetings.map((g, i) => (
              <div class="alt-greeting" key={i}>
                <label class="sr-only" for={`f-alt-${i}`}>
                  {t('alternate_greetings')} {i + 1}
                </label>
                <textarea id={`f-alt-${i}`} rows={2} value={g} onInput={(e) => set('alternate_greetings', d.alternate_greetings.map((x, j) => (j === i ? e.currentTarget.value : x)))} />
                <button type="button" class="icon-btn" aria-label={`${t('remove')} ${i + 1}`} onClick={() => set('alternate_greetings', d.alternate_greetings.filter((_, j) => j !== i))}>
                  <Icon name="x" size={18} />
                </button>
              </div>
            ))}
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => set('alternate_greetings', [...d.alternate_greetings, ''])}>
              <Icon name="plus" size={16} /> {t('add_greeting')}
            </button>
          </fieldset>
          {field('mes_example', { area: true, rows: 4, hint: '<START>\n{{user}}: …\n{{char}}: …' })}
          {field('tags', { hint: t('tags_hint') })}
          <div class="field-row">
            <div class="field">
              <label for="f-language">{t('language')}</label>
              <select id="f-language" value={d.language} onChange={(e) => set('language', e.currentTarget.value)}>
                <option value="ko">한국어</option>
                <option value="en">English</option>
                <option value="zh">中文</option>
              </select>
            </div>
            <div class="field">
              <label for="f-avatar">{t('avatar')}</label>
              <input id="f-avatar" type="file" accept="image/png,image/jpeg,image/webp" aria-describedby="f-avatar-hint" onChange={(e) => setAvatar(e.currentTarget.files?.[0] || null)} />
              <p class="hint" id="f-avatar-hint">{t('avatar_hint')}</p>
            </div>
          </div>
          <fieldset class="field">
            <legend>{t('visibility')}</legend>
            {(['private', 'unlisted', 'public'] as const).map((v) => (
              <label class="radio" key={v}>
                <input type="radio" name="visibility" value={v} checked={d.visibility === v} onChange={() => set('visibility', v)} />
                <span>{t(`vis_${v}`)}</span>
              </label>
            ))}
          </fieldset>
          <div class="field">
            <label class="checkbox">
              <input id="f-real" type="checkbox" checked={d.real_person} disabled={!!orig?.real_person} aria-describedby="f-real-hint" onChange={(e) => set('real_person', e.currentTarget.checked)} />
              <span>{t('real_person')}</span>
            </label>
            <p class="hint" id="f-real-hint">{t('real_person_hint')}</p>
          </div>
          <div class="field">
            <label class="checkbox">
              <input id="f-mature" type="checkbox" checked={d.mature} aria-describedby="f-mature-hint" onChange={(e) => set('mature', e.currentTarget.checked)} />
              <span>{t('mature')}</span>
            </label>
            <p class="hint" id="f-mature-hint">{t('mature_hint')}</p>
          </div>
          {formError && <p class="form-error" role="alert">{formError}</p>}
          <div class="row-end sticky-actions">
            <button type="submit" class="btn btn-primary" disabled={busy}>
              {t('save')}
            </button>
          </div>
        </form>
        <aside class="editor-preview" aria-label={t('preview')}>
          <h2 class="section-title">{t('preview')}</h2>
          <div class="preview-card">
            <CharacterCard c={preview} />
          </div>
        </aside>
      </div>
    </section>
  );
}
