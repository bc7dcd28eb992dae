// Import a character card file (PNG / JSON / CHARX) by picker or drag & drop.
import { useState } from 'preact/hooks';
import { api, enc, type Character } from '../api';
import { CharacterCard, errorText } from '../components/common';
import { Icon } from '../components/icons';
import { t } from '../i18n';

/** Header values must be ISO-8859-1: non-ASCII file names are percent-encoded. */
export function filenameHeader(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) ? name : encodeURIComponent(name);
}

export function ImportScreen() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState<Character | null>(null);
  const [over, setOver] = useState(false);

  async function upload(file: File) {
    setBusy(true);
    setError('');
    setDone(null);
    try {
      const c = await api<Character>('POST', '/api/characters/import', file, {
        headers: { 'Content-Type': 'application/octet-stream', 'X-Filename': filenameHeader(file.name) },
      });
      setDone(c);
    } catch (e) {
      setError(t('import_failed', { message: errorText(e) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="page import" aria-labelledby="import-title">
      <header class="page-head">
        <a class="icon-btn" href="#/studio" aria-label={t('back')}>
          <Icon name="back" />
        </a>
        <h1 id="import-title">{t('import_title')}</h1>
      </header>
      <div
        class={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          const f = e.dataTransfer?.files?.[0];
          if (f) upload(f);
        }}
      >
        <Icon name="upload" size={40} />
        <p>{t('drop_here')}</p>
        <label class="btn btn-primary file-btn">
          {t('choose_file')}
          <input
            type="file"
            class="sr-only"
            accept=".png,.json,.charx,image/png,application/json"
            aria-describedby="import-hint"
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) upload(f);
              e.currentTarget.value = '';
            }}
          />
        </label>
        <p class="hint" id="import-hint">
          {t('import_hint')}
        </p>
      </div>
      {busy && <p role="status">{t('importing')}</p>}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {done && (
        <div class="import-result" role="status">
          <p class="ok">{t('imported', { name: done.name })}</p>
          <div class="preview-card small">
            <CharacterCard c={done} />
          </div>
          <div class="row-wrap">
            <a class="btn btn-primary" href={`#/character/${enc(done.id)}`}>
              {done.name}
            </a>
            <a class="btn" href={`#/edit/${enc(done.id)}`}>
              {t('edit')}
            </a>
          </div>
        </div>
      )}
    </section>
  );
}
