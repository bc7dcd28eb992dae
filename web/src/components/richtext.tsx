// Card and chat text display: fills {{char}} / {{user}} and shows *narration* in italics.
// Produces only text nodes and <em> elements — never HTML from the text itself.
import { Fragment } from 'preact';
import { substituteNames } from '../josa';

/**
 * Replaces the SillyTavern placeholders {{char}} and {{user}} (any case) for display; a
 * Korean particle right after one agrees with the name (josa.ts), as on the server.
 */
export function fillPlaceholders(text: string, charName: string, userName: string): string {
  return substituteNames(text, /\{\{\s*(char|user)\s*\}\}/gi, (m) => (m[1].toLowerCase() === 'char' ? charName : userName) || undefined);
}

export type Segment = { text: string; em: boolean };

/** Splits text into plain and *emphasised* runs (single asterisks on one line). */
export function segments(text: string): Segment[] {
  const out: Segment[] = [];
  const re = /\*([^*\n]+)\*/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), em: false });
    out.push({ text: m[1], em: true });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), em: false });
  return out;
}

export function RichText({ text, char = '', user = '' }: { text: string; char?: string; user?: string }) {
  const filled = char || user ? fillPlaceholders(text || '', char, user) : text || '';
  return (
    <>
      {segments(filled).map((s, i) =>
        s.em ? (
          <em key={i} class="narration">
            {s.text}
          </em>
        ) : (
          <Fragment key={i}>{s.text}</Fragment>
        ),
      )}
    </>
  );
}
