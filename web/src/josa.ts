// Korean particles (josa) that agree with a name: "{name}이(가)" gives 세종이 but 보리가,
// "{name}(으)로" gives 세종으로 but 서울로. fill() in i18n.ts and fillPlaceholders() in
// components/richtext.tsx put names into text through substituteNames(), so the UI's
// Korean strings and the card text it shows agree with character and user names.
//
// The same rules as the server's src/persona/josa.h (read its header for the reasoning);
// both are tested against tests/data/josa_cases.json. In short:
//   - a name ends in a vowel, a batchim, ㄹ, or is unknown (then nothing changes);
//     trailing spaces, punctuation and closing brackets are skipped;
//   - Hangul: its batchim; digits: Sino-Korean (…7 칠, …10 십, …0000 만), after a decimal
//     point the last digit, glued to Latin letters (MP3) only 2 4 5;
//   - Latin: an all-caps run of one letter or without A/E/I/O/U by its letter names
//     (BTS, HTML); other all-caps runs only when the word rule agrees; words by the
//     ending: m n ng → batchim, l → ㄹ, a i o u y w r s x z, h (not ch), vowel+e → vowel;
//   - particles right after the name: 이/가 은/는 을/를 과/와 아/야 이여/여 이나/나 이랑/랑
//     이라고/라고 이라는/라는 이라도/라도 이라면/라면 이란/란 이야/야 이에요/예요 이었/였
//     으로/로 (ㄹ takes 로); a bare form only when no Hangul syllable follows (가방 is a
//     word) unless it stacks (과의, 으로부터) or is 이었/였; a bare 야 is the vocative;
//     the parenthesised forms 이(가) … (이)X (으)로 are resolved whatever follows.

export type FinalSound = 'unknown' | 'vowel' | 'consonant' | 'rieul';

const isSyllable = (cp: number) => cp >= 0xac00 && cp <= 0xd7a3;

function syllableSound(cp: number): FinalSound {
  const jong = (cp - 0xac00) % 28; // 0: none, 8: ㄹ
  return jong === 0 ? 'vowel' : jong === 8 ? 'rieul' : 'consonant';
}

/** How a reading written in Hangul ends (the tables below). */
const readingSound = (hangul: string) => syllableSound(hangul.charCodeAt(hangul.length - 1));

const DIGIT_NAMES = ['영', '일', '이', '삼', '사', '오', '육', '칠', '팔', '구'];
const PLACE_NAMES = ['', '십', '백', '천'];
const GROUP_NAMES = ['', '만', '억', '조', '경', '해'];
const LETTER_NAMES = ['에이', '비', '씨', '디', '이', '에프', '지', '에이치', '아이', '제이', '케이', '엘', '엠',
  '엔', '오', '피', '큐', '알', '에스', '티', '유', '브이', '더블유', '엑스', '와이', '제트'];

// Spaces, punctuation and closing brackets after a name, which nobody reads aloud.
const SKIPPED = new Set(
  Array.from(' \t\n\r.,!?;:\'")]}>-_~*\u00a0\u00b7\u2019\u201d\u2026\u3000\u3001\u3002\u3009\u300b\u300d\u300f\u3011\u3015\uff01\uff09\uff0c\uff0e\uff1f\uff3d\uff5d\uff5e'),
);

const isDigit = (c: string) => c >= '0' && c <= '9';
const isUpper = (c: string) => c >= 'A' && c <= 'Z';
const isLower = (c: string) => c >= 'a' && c <= 'z';
const isLetter = (c: string) => isUpper(c) || isLower(c);

/** `s` ends in an ASCII digit. */
function numberSound(s: string): FinalSound {
  let start = s.length;
  while (start > 0 && isDigit(s[start - 1])) start--;
  const digits = s.slice(start);
  const before = start > 0 ? s[start - 1] : '';
  const last = Number(digits[digits.length - 1]);
  if (before === '.' && start >= 2 && isDigit(s[start - 2])) return readingSound(DIGIT_NAMES[last]);
  if (isLetter(before)) return digits.length === 1 && (last === 2 || last === 4 || last === 5) ? 'vowel' : 'unknown';
  let zeros = 0;
  while (zeros < digits.length && digits[digits.length - 1 - zeros] === '0') zeros++;
  if (zeros === digits.length) return readingSound(DIGIT_NAMES[0]);
  if (zeros === 0) return readingSound(DIGIT_NAMES[last]);
  if (zeros < 4) return readingSound(PLACE_NAMES[zeros]);
  const group = Math.floor(zeros / 4);
  return group < GROUP_NAMES.length ? readingSound(GROUP_NAMES[group]) : 'unknown';
}

/** A Latin word (lower case) by its ending. */
function wordSound(w: string): FinalSound {
  const last = w[w.length - 1];
  const prev = w.length >= 2 ? w[w.length - 2] : '';
  if (last === 'm' || last === 'n' || (last === 'g' && prev === 'n')) return 'consonant';
  if (last === 'l') return 'rieul';
  if ('aiouywrsxz'.includes(last) || (last === 'h' && prev !== 'c') || (last === 'e' && prev !== '' && 'aeiouy'.includes(prev)))
    return 'vowel';
  return 'unknown';
}

/** `s` ends in an ASCII letter. */
function latinSound(s: string): FinalSound {
  let start = s.length;
  while (start > 0 && isLetter(s[start - 1])) start--;
  const run = s.slice(start);
  if (/[a-z]/.test(run)) return wordSound(run.toLowerCase());
  const letter = readingSound(LETTER_NAMES[run.charCodeAt(run.length - 1) - 65]);
  if (run.length === 1 || !/[AEIOU]/.test(run)) return letter;
  return wordSound(run.toLowerCase()) === letter ? letter : 'unknown';
}

/** How `name` ends when read aloud in Korean. */
export function finalSound(name: string): FinalSound {
  let end = name.length;
  while (end > 0) {
    let cp = name.charCodeAt(end - 1);
    let size = 1;
    if (cp >= 0xdc00 && cp <= 0xdfff) {
      const hi = end >= 2 ? name.charCodeAt(end - 2) : 0;
      if (hi < 0xd800 || hi > 0xdbff) return 'unknown';
      cp = 0x10000 + ((hi - 0xd800) << 10) + (cp - 0xdc00);
      size = 2;
    }
    const ch = String.fromCodePoint(cp);
    if (SKIPPED.has(ch)) {
      end -= size;
      continue;
    }
    if (isSyllable(cp)) return syllableSound(cp);
    if (isDigit(ch)) return numberSound(name.slice(0, end));
    if (isLetter(ch)) return latinSound(name.slice(0, end));
    return 'unknown';
  }
  return 'unknown';
}

interface Family {
  c: string; // after a batchim
  v: string; // after a vowel
  rieulV?: boolean; // 으로/로: 서울로
  stem?: boolean; // an ending always follows (였다)
  stack?: string[]; // particles that may follow it
  noBareV?: boolean; // its vowel form is read as another family's
}

// Order only matters for equal forms: a bare 야 is the vocative.
const FAMILIES: Family[] = [
  { c: '이', v: '가' },
  { c: '은', v: '는' },
  { c: '을', v: '를' },
  { c: '과', v: '와', stack: ['의', '는', '도', '만'] },
  { c: '아', v: '야' },
  { c: '이여', v: '여' },
  { c: '이나', v: '나' },
  { c: '이랑', v: '랑', stack: ['은', '도', '의', '만'] },
  { c: '이라고', v: '라고' },
  { c: '이라는', v: '라는' },
  { c: '이라도', v: '라도' },
  { c: '이라면', v: '라면' },
  { c: '이란', v: '란' },
  { c: '이야', v: '야', noBareV: true },
  { c: '이에요', v: '예요' },
  { c: '이었', v: '였', stem: true },
  { c: '으로', v: '로', rieulV: true, stack: ['서', '써', '는', '도', '부터', '만', '의'] },
];
const PAIRED = 5; // 이(가) 은(는) 을(를) 과(와) 아(야) and reversed
const COPULA_YO = FAMILIES[14];
const PAST_STEM = FAMILIES[15];

const pick = (f: Family, sound: FinalSound) => (sound === 'vowel' || (sound === 'rieul' && f.rieulV) ? f.v : f.c);
const startsWithSyllable = (s: string) => s.length > 0 && isSyllable(s.charCodeAt(0));

/**
 * The particle at the start of `text` (the text right after a name), agreed with `sound`:
 * `n` UTF-16 units of `text` are to be replaced by `particle`. n is 0 when there is none
 * or the sound is unknown.
 */
export function agreeParticle(sound: FinalSound, text: string): { n: number; particle: string } {
  const none = { n: 0, particle: '' };
  if (sound === 'unknown') return none;
  for (const f of FAMILIES.slice(0, PAIRED)) {
    for (const form of [`${f.c}(${f.v})`, `${f.v}(${f.c})`])
      if (text.startsWith(form)) return { n: form.length, particle: pick(f, sound) };
  }
  if (text.startsWith('(이)')) {
    const rest = text.slice(3);
    for (const f of [COPULA_YO, PAST_STEM]) {
      const tail = f.c.slice(1);
      if (rest.startsWith(tail)) return { n: 3 + tail.length, particle: pick(f, sound) };
    }
    return startsWithSyllable(rest) ? { n: 3, particle: sound === 'vowel' ? '' : '이' } : none;
  }
  if (text.startsWith('(으)')) {
    return text.startsWith('로', 3) ? { n: 3, particle: sound === 'consonant' ? '으' : '' } : none;
  }
  let best: Family | null = null;
  let bestLength = 0;
  for (const f of FAMILIES) {
    for (const form of f.noBareV ? [f.c] : [f.c, f.v]) {
      if (form.length <= bestLength || !text.startsWith(form)) continue;
      const rest = text.slice(form.length);
      if (f.stem || !startsWithSyllable(rest) || (f.stack ?? []).some((p) => rest.startsWith(p))) {
        best = f;
        bestLength = form.length;
      }
    }
  }
  return best ? { n: bestLength, particle: pick(best, sound) } : none;
}

/**
 * Replaces every match of the global regexp `pattern` in `text` by `value(match)` (left as
 * it is when that is undefined), making a particle right after it agree with the value.
 */
export function substituteNames(
  text: string,
  pattern: RegExp,
  value: (m: RegExpExecArray) => string | undefined,
): string {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
  let out = '';
  let done = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const v = value(m);
    if (v === undefined) continue;
    const p = agreeParticle(finalSound(v), text.slice(re.lastIndex));
    out += text.slice(done, m.index) + v + p.particle;
    done = re.lastIndex + p.n;
    re.lastIndex = done;
  }
  return out + text.slice(done);
}
