import { afterEach, describe, expect, it } from 'vitest';
import { fill, setLang, t } from './i18n';
import { ta } from './screens/admin-i18n';
import { fillPlaceholders } from './components/richtext';
import { agreeParticle, finalSound } from './josa';
import table from '../../tests/data/josa_cases.json';

interface Case {
  name: string;
  text: string;
  expected: string;
  note?: string;
}

// The table the server's tests/persona/josa_test.cc reads too. Its texts use card macros;
// each case runs through fillPlaceholders() (card text shown in the app; <BOT> and <USER>
// become {{char}} and {{user}}) and through fill() (UI strings; every macro becomes {name}).
const cases: Case[] = table;
const MACRO = /\{\{\s*(char|user)\s*\}\}|<(bot|user)>/gi;

describe('josa', () => {
  afterEach(() => setLang('en'));

  it('agrees particles as the shared table says', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const c of cases) {
      const what = `${c.name} | ${c.text} (${c.note ?? ''})`;
      const card = c.text.replace(/<bot>/gi, '{{char}}').replace(/<user>/gi, '{{user}}');
      // An empty name leaves the placeholder in the card text; fill() puts in "".
      if (c.name) expect(fillPlaceholders(card, c.name, c.name), what).toBe(c.expected);
      expect(fill(c.text.replace(MACRO, '{name}'), { name: c.name }), what).toBe(c.expected);
    }
  });

  it('reads names like the server does', () => {
    const want: Record<string, string> = {
      보리: 'vowel',
      세종: 'consonant',
      하늘: 'rieul',
      '1': 'rieul',
      '6': 'consonant',
      '20': 'consonant',
      '100000': 'consonant',
      '100000000000000000000': 'vowel',
      '1000000000000000000000000': 'unknown',
      '2.50': 'consonant',
      'GPT-4': 'vowel',
      K9: 'unknown',
      NCR: 'rieul',
      CNN: 'consonant',
      JANE: 'unknown',
      Paul: 'rieul',
      Andrew: 'vowel',
      Greg: 'unknown',
      'Tom  ': 'consonant',
      '...': 'unknown',
      'Tom#': 'unknown',
      '미나😀': 'unknown',
      '\ud800': 'unknown',
    };
    for (const [name, sound] of Object.entries(want)) expect(finalSound(name), name).toBe(sound);
    expect(agreeParticle('vowel', '(으)로서')).toEqual({ n: 3, particle: '' });
    expect(agreeParticle('consonant', '가방')).toEqual({ n: 0, particle: '' });
  });

  it('Korean UI strings agree with the names put into them', () => {
    setLang('ko');
    expect(t('memories_title', { name: '세종' })).toBe('세종이 기억하는 것');
    expect(t('memories_title', { name: '보리' })).toBe('보리가 기억하는 것');
    expect(t('memories_title', { name: 'Kate' })).toBe('Kate이(가) 기억하는 것');
    expect(t('read_only_banner', { name: '이순신' })).toMatch(/^이순신은 더 이상/);
    expect(t('memories_intro', { name: '하늘' })).toContain('하늘과의 모든 대화');
    expect(t('memories_intro', { name: '보리' })).toContain('보리와의 모든 대화');
    expect(t('imported', { name: '헌책방 서 노인' })).toBe('헌책방 서 노인을 가져왔어요.');
    expect(t('signed_in_as', { name: 'admin' })).toBe('admin으로 로그인됨');
    expect(t('signed_in_as', { name: 'mina' })).toBe('mina로 로그인됨');
    expect(t('export_as', { fmt: 'JSON' })).toBe('JSON으로 내보내기');
    expect(t('export_as', { fmt: 'PNG' })).toBe('PNG로 내보내기');
    expect(t('required', { field: '이름' })).toBe('이름을 입력해 주세요.');
    expect(ta('unhidden_done', { name: '세종' })).toBe('세종이 다시 보여요.');
    // Other languages and other placeholders are untouched.
    setLang('en');
    expect(t('memories_title', { name: '세종' })).toBe('What 세종 keeps in mind');
    expect(fill('{a}가 {b}', { a: '세종' })).toBe('세종이 {b}');
  });
});
