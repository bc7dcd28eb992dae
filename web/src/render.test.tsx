// Text rendering safety: card and message text must reach the DOM as text only.
import { render } from 'preact';
import { afterEach, describe, expect, it } from 'vitest';
import { Avatar, CharacterCard, monogram, safeImageUrl } from './components/common';
import { filenameHeader } from './screens/import';
import { parseTags, validateDraft, type Draft } from './screens/editor';
import { validateCredentials } from './screens/auth';
import { RichText, fillPlaceholders, segments } from './components/richtext';

const EVIL = {
  name: '<img src=x onerror="window.__pwned=1">Evil',
  tagline: '<script>window.__pwned=2</script>',
  description: '<a href="javascript:window.__pwned=3">click</a>',
  tags: ['<b>bold</b>', '"><svg onload=alert(1)>'],
  language: 'en',
  real_person: true,
  avatar_url: 'javascript:alert(1)',
};

let root: HTMLElement;
afterEach(() => {
  if (root) render(null, root);
  document.body.innerHTML = '';
});

describe('rendering untrusted text', () => {
  it('renders card fields literally, with no elements or handlers from the text', () => {
    root = document.createElement('div');
    document.body.appendChild(root);
    render(<CharacterCard c={EVIL} expanded />, root);
    const text = root.textContent || '';
    expect(text).toContain(EVIL.name);
    expect(text).toContain(EVIL.tagline);
    expect(text).toContain(EVIL.description);
    expect(text).toContain('#<b>bold</b>');
    expect(root.querySelectorAll('script, svg[onload], a, b, img').length).toBe(0);
    for (const el of root.querySelectorAll('*')) {
      for (const attr of el.getAttributeNames()) expect(attr.startsWith('on')).toBe(false);
    }
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    expect(text).toContain('AI portrayal — not the real person');
  });

  it('never uses javascript: or other unsafe URLs as image sources', () => {
    expect(safeImageUrl('javascript:alert(1)')).toBeNull();
    expect(safeImageUrl('JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeImageUrl('data:text/html,<script>')).toBeNull();
    expect(safeImageUrl('//evil.example/x.png')).toBeNull();
    expect(safeImageUrl('https://evil.example/x.png')).toBeNull();
    expect(safeImageUrl('data:image/svg+xml,<svg onload=alert(1)>')).toBeNull();
    expect(safeImageUrl('/api/characters/1/avatar')).toBe('/api/characters/1/avatar');
    expect(safeImageUrl('data:image/png;base64,AAAA')).toBe('data:image/png;base64,AAAA');
    expect(safeImageUrl(null)).toBeNull();
    root = document.createElement('div');
    render(<Avatar name="x" url="javascript:alert(1)" />, root);
    expect(root.querySelector('img')).toBeNull();
    expect(root.textContent).toBe('X');
  });

  it('monograms handle surrogate pairs and empty names', () => {
    expect(monogram('🐰 Tokki')).toBe('🐰');
    expect(monogram('세종')).toBe('세');
    expect(monogram('  ')).toBe('?');
  });
});

describe('RichText', () => {
  it('fills placeholders and italicises *narration* using elements, not HTML', () => {
    root = document.createElement('div');
    render(<RichText text={'*waves at {{user}}* I am {{char}}. <b>x</b> *<img src=x onerror=alert(1)>*'} char="Mina" user="Jun" />, root);
    expect(root.textContent).toBe('waves at Jun I am Mina. <b>x</b> <img src=x onerror=alert(1)>');
    const ems = root.querySelectorAll('em');
    expect(ems.length).toBe(2);
    expect(ems[0].textContent).toBe('waves at Jun');
    expect(ems[1].textContent).toBe('<img src=x onerror=alert(1)>');
    expect(root.querySelectorAll('b, img').length).toBe(0);
  });

  it('splits segments; lone or multi-line asterisks stay literal', () => {
    expect(segments('a *b* c')).toEqual([{ text: 'a ', em: false }, { text: 'b', em: true }, { text: ' c', em: false }]);
    expect(segments('2 * 3 = 6')).toEqual([{ text: '2 * 3 = 6', em: false }]);
    expect(segments('*a\nb*')).toEqual([{ text: '*a\nb*', em: false }]);
    expect(fillPlaceholders('{{Char}} & {{ user }}', 'A', 'B')).toBe('A & B');
  });
});

describe('form helpers', () => {
  const draft = (over: Partial<Draft>): Draft => ({
    name: 'A', tagline: '', description: '', personality: '', scenario: '', first_mes: 'hi', alternate_greetings: [], mes_example: '',
    tags: '', language: 'en', visibility: 'private', real_person: false, mature: false, ...over,
  });

  it('validates required fields and lengths', () => {
    expect(validateDraft(draft({}))).toEqual({});
    expect(Object.keys(validateDraft(draft({ name: '  ', first_mes: '' })))).toEqual(['name', 'first_mes']);
    expect(validateDraft(draft({ tagline: 'x'.repeat(301) })).tagline).toMatch(/300/);
    expect(validateDraft(draft({ name: '가'.repeat(128) }))).toEqual({});
    expect(validateDraft(draft({ name: '가'.repeat(129) })).name).toMatch(/128/);
  });

  it('parses tags from commas, CJK commas and hashes, dropping duplicates', () => {
    expect(parseTags('garden, #Companion，history、garden, ')).toEqual(['garden', 'Companion', 'history']);
  });

  it('percent-encodes non-ASCII file names for the X-Filename header', () => {
    expect(filenameHeader('card.png')).toBe('card.png');
    expect(filenameHeader('세종.png')).toBe(encodeURIComponent('세종.png'));
  });

  it('validates sign-up credentials', () => {
    expect(validateCredentials('ab', 'longenough', true).username).toBeTruthy();
    expect(validateCredentials('alice', 'short', true).password).toBeTruthy();
    expect(validateCredentials('alice', 'longenough', true)).toEqual({});
    expect(validateCredentials('', '', false)).toEqual({ username: expect.any(String), password: expect.any(String) });
  });
});
