import { afterEach, describe, expect, it } from 'vitest';
import { DICTS, LANGS, getLang, matchLang, relTime, setLang, t } from './i18n';
import { ADMIN_DICTS, ta } from './screens/admin-i18n';
import { REPORT_REASONS } from './api';

/** Every language has every key of English, non-empty, with the same {placeholders}. */
function expectComplete(dicts: Record<string, Record<string, string>>) {
  const keys = Object.keys(dicts.en);
  const ph = (s: string) => (s.match(/\{\w+\}/g) || []).sort();
  for (const l of LANGS) {
    expect(Object.keys(dicts[l]).sort(), l).toEqual([...keys].sort());
    for (const k of keys) {
      const v = dicts[l][k];
      expect(v.trim().length, `${l}.${k}`).toBeGreaterThan(0);
      expect(ph(v), `${l}.${k}`).toEqual(ph(dicts.en[k]));
    }
  }
}

describe('i18n', () => {
  afterEach(() => setLang('en'));

  it('every language defines every key, non-empty, with the same placeholders', () => {
    expectComplete(DICTS);
  });

  it('the admin screen strings are complete in every language too', () => {
    expectComplete(ADMIN_DICTS);
    // Nothing is defined twice: an admin key would shadow nothing, but drift would confuse.
    for (const k of Object.keys(ADMIN_DICTS.en)) expect(k in DICTS.en, k).toBe(false);
    setLang('ko');
    expect(ta('suspended_done', { name: 'mina' })).toBe('mina 계정을 정지했어요.');
    setLang('zh');
    expect(ta('tab_audit')).toBe('审计日志');
  });

  it('every report reason has a label in every language, and Korean/Chinese differ from English', () => {
    for (const r of REPORT_REASONS) {
      const k = `reason_${r}` as keyof typeof DICTS.en;
      for (const l of LANGS) expect(DICTS[l][k], `${l}.${k}`).toBeTruthy();
      expect(DICTS.ko[k]).not.toBe(DICTS.en[k]);
      expect(DICTS.zh[k]).not.toBe(DICTS.en[k]);
    }
  });

  it('matches browser language tags', () => {
    expect(matchLang('ko-KR')).toBe('ko');
    expect(matchLang('zh-Hant-TW')).toBe('zh');
    expect(matchLang('zh_CN')).toBe('zh');
    expect(matchLang('EN-gb')).toBe('en');
    expect(matchLang('fr-FR')).toBe('en');
    expect(matchLang('')).toBe('en');
    expect(matchLang(undefined)).toBe('en');
  });

  it('translates and interpolates, leaving unknown placeholders and markup as plain text', () => {
    setLang('ko');
    expect(getLang()).toBe('ko');
    expect(t('nav_discover')).toBe('탐색');
    expect(t('message_placeholder', { name: '<b>세종</b>' })).toBe('<b>세종</b>에게 메시지…');
    setLang('zh');
    expect(t('alternative_n', { i: 2, n: 3 })).toBe('回复 2 / 3');
    setLang('en');
    expect(t('alternative_n', { i: 1 })).toBe('Alternative 1 of {n}');
    expect(document.documentElement.lang).toBe('en');
    expect(localStorage.getItem('tokki.lang')).toBe('en');
  });

  it('the demo banner text is exact in English', () => {
    expect(t('demo_banner')).toBe('Demo model: replies are random noise. Start tokki with --model FILE.gguf or --backend-url URL for real replies.');
  });

  it('formats relative times', () => {
    const now = 1_700_000_000_000;
    expect(relTime(now - 10_000, now)).toBe('now');
    expect(relTime(now - 5 * 60_000, now)).toBe('5m');
    expect(relTime(now - 3 * 3600_000, now)).toBe('3h');
    expect(relTime(now - 2 * 86400_000, now)).toBe('2d');
  });
});
