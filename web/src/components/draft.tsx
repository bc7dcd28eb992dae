// "Draft with AI": a dialog that asks for an idea and a language, streams the model's draft
// (POST /api/characters/draft) with live progress, and hands the finished draft to the
// editor, which fills its form. Nothing is saved here.
import { useEffect, useRef, useState } from 'preact/hooks';
import { LANG_NAMES, LANGS, t, type Key } from '../i18n';
import { writeDraft, type CharacterDraft } from '../api';
import { useApp } from '../state';
import { errorText } from './common';
import { Modal } from './report';

export const DRAFT_IDEA_MAX = 2000;

/** The model's JSON fields, in the order it writes them, with the editor's label for each. */
const MODEL_FIELDS: [string, Key][] = [
  ['name', 'name'],
  ['tagline', 'card_tagline'],
  ['description', 'description'],
  ['personality', 'personality'],
  ['scenario', 'scenario'],
  ['greeting', 'greeting'],
  ['example_dialogue', 'example_dialogues'],
  ['tags', 'tags'],
];

/** Which field the model is writing in `soFar` (its JSON so far): index into the fields, -1 before the first. */
export function draftProgress(soFar: string): number {
  let at = -1;
  MODEL_FIELDS.forEach(([key], i) => {
    if (soFar.includes(`"${key}"`)) at = i;
  });
  return at;
}

export function DraftDialog({ language, onDraft, onClose }: { language: string; onDraft: (d: CharacterDraft) => void; onClose: () => void }) {
  const { server } = useApp();
  const [idea, setIdea] = useState('');
  const [lang, setLangChoice] = useState(LANGS.includes(language as never) ? language : 'en');
  const [busy, setBusy] = useState(false);
  const [chars, setChars] = useState(0);
  const [field, setField] = useState(-1);
  const [error, setError] = useState('');
  const abort = useRef<AbortController | null>(null);
  // Closing the dialog (or leaving the page) stops a draft being written.
  useEffect(() => () => abort.current?.abort(), []);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    if (!idea.trim()) {
      setError(t('required', { field: t('draft_idea') }));
      return;
    }
    setBusy(true);
    setError('');
    setChars(0);
    setField(-1);
    const ctl = new AbortController();
    abort.current = ctl;
    try {
      const d = await writeDraft(
        idea,
        lang,
        (soFar) => {
          setChars([...soFar].length);
          setField(draftProgress(soFar));
        },
        ctl.signal,
      );
      onDraft(d);
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') return;
      setError(errorText(err));
    } finally {
      if (abort.current === ctl) abort.current = null;
      if (!ctl.signal.aborted) setBusy(false);
    }
  }

  function stop() {
    abort.current?.abort();
    setBusy(false);
  }

  const left = DRAFT_IDEA_MAX - [...idea].length;
  return (
    <Modal title={t('draft_title')} onClose={onClose} class="draft-dialog">
      <form onSubmit={submit} data-testid="draft-dialog">
        {server?.model?.is_generated && (
          <p class="hint draft-demo" role="note">
            {t('draft_demo_note')}
          </p>
        )}
        <div class="field">
          <label for="draft-idea">{t('draft_idea')}</label>
          <textarea
            id="draft-idea"
            rows={4}
            value={idea}
            maxLength={DRAFT_IDEA_MAX}
            disabled={busy}
            placeholder={t('draft_idea_hint')}
            aria-describedby="draft-idea-left"
            onInput={(e) => setIdea(e.currentTarget.value)}
          />
          <p class="hint" id="draft-idea-left">
            {t('chars_left', { n: Math.max(0, left) })}
          </p>
        </div>
        <div class="field">
          <label for="draft-language">{t('draft_language')}</label>
          <select id="draft-language" value={lang} disabled={busy} onChange={(e) => setLangChoice(e.currentTarget.value)}>
            {LANGS.map((l) => (
              <option key={l} value={l}>
                {LANG_NAMES[l]}
              </option>
            ))}
          </select>
        </div>
        {busy && (
          <div class="draft-progress" role="status" aria-live="polite">
            <progress max={MODEL_FIELDS.length} value={Math.max(0, field) + 0.5} />
            <p class="hint">
              {field >= 0 ? t('draft_writing_field', { field: t(MODEL_FIELDS[field][1]), n: chars }) : t('draft_starting')}
            </p>
          </div>
        )}
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="row-end">
          {busy ? (
            <button type="button" class="btn btn-ghost" onClick={stop}>
              {t('draft_stop')}
            </button>
          ) : (
            <button type="button" class="btn btn-ghost" onClick={onClose}>
              {t('cancel')}
            </button>
          )}
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {t('draft_write')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
