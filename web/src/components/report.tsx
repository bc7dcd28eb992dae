// Reporting a character or a chat message to the moderators: a small modal dialog with
// the reason list and an optional note. Used by the character page, the deck and the chat.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, REPORT_NOTE_MAX, REPORT_REASONS, createReport, type Id, type ReportReason } from '../api';
import { t, type Key } from '../i18n';
import { useApp } from '../state';

export interface ReportTarget {
  kind: 'character' | 'message';
  id: Id;
  /** The character's name, for the title. */
  name: string;
}

/** A modal box: Escape and the backdrop close it; focus moves in and returns on close. */
export function Modal({ title, onClose, children, class: cls = '' }: { title: string; onClose: () => void; children: preact.ComponentChildren; class?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const first = box.current?.querySelector<HTMLElement>('input, textarea, select, button');
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        onClose();
      } else if (e.key === 'Tab' && box.current) {
        // Keep Tab inside the dialog.
        const els = [...box.current.querySelectorAll<HTMLElement>('input, textarea, select, button, a[href]')].filter((x) => !(x as HTMLButtonElement).disabled);
        if (!els.length) return;
        const i = els.indexOf(document.activeElement as HTMLElement);
        if (e.shiftKey && i <= 0) {
          e.preventDefault();
          els[els.length - 1].focus();
        } else if (!e.shiftKey && i === els.length - 1) {
          e.preventDefault();
          els[0].focus();
        }
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      if (opener && document.contains(opener)) opener.focus({ preventScroll: true });
    };
  }, []);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={box} class={`modal ${cls}`} role="dialog" aria-modal="true" aria-labelledby="modal-title">
        <h2 id="modal-title" class="modal-title">
          {title}
        </h2>
        {children}
      </div>
    </div>
  );
}

export function ReportDialog({ target, onClose }: { target: ReportTarget; onClose: () => void }) {
  const { toast } = useApp();
  const [reason, setReason] = useState<ReportReason | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const left = REPORT_NOTE_MAX - [...note].length;

  async function submit(e: Event) {
    e.preventDefault();
    if (!reason || busy) return;
    setBusy(true);
    setError('');
    try {
      await createReport({ target_kind: target.kind, target_id: target.id, reason, note });
      toast(t('report_sent'));
      onClose();
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'already_exists' || err.status === 409)) {
        toast(t('already_reported'));
        onClose();
      } else {
        setError(err instanceof ApiError ? err.message : t('error_generic'));
        setBusy(false);
      }
    }
  }

  const title = target.kind === 'character' ? t('report_title_character', { name: target.name }) : t('report_title_message', { name: target.name });
  return (
    <Modal title={title} onClose={onClose} class="report-dialog">
      <form onSubmit={submit} data-testid="report-dialog">
        <fieldset class="field reasons">
          <legend>{t('report_reason')}</legend>
          {REPORT_REASONS.map((r) => (
            <label class="radio" key={r}>
              <input type="radio" name="report-reason" value={r} checked={reason === r} onChange={() => setReason(r)} />
              <span>{t(`reason_${r}` as Key)}</span>
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="report-note">{t('report_note')}</label>
          <textarea id="report-note" rows={3} value={note} maxLength={REPORT_NOTE_MAX} aria-describedby="report-note-left" onInput={(e) => setNote(e.currentTarget.value)} />
          <p class="hint" id="report-note-left">
            {t('chars_left', { n: Math.max(0, left) })}
          </p>
        </div>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="row-end">
          <button type="button" class="btn btn-ghost" onClick={onClose}>
            {t('cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={!reason || busy}>
            {t('report_send')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
