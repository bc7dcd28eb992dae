// tokki/persona/josa.h — Korean particles (josa) that agree with a name.
//
// Card text is written once for any name: "{{char}}가 웃었다", "{{user}}(으)로". Once the
// macro is replaced, the particle must agree with how the name ends when read aloud:
// 노인이 / 보리가, 이순신은 / 보리는, 세종을 / 보리를, 하늘과 / 보리와, 세종으로 / 서울로.
//
// How a name ends (FinalSoundOf). Trailing spaces, punctuation and closing brackets are
// skipped; the last character left decides:
//   Hangul syllable  its final consonant (batchim): none, ㄹ, or another one.
//   digits           read as a Sino-Korean number by the last nonzero place: 1 일(ㄹ), 2 이,
//                    3 삼, 4 사, 5 오, 6 육, 7 칠(ㄹ), 8 팔(ㄹ), 9 구; zeros alone 영; with
//                    trailing zeros 십 백 천 만 (…0000) 억 조 경 해. After a decimal point
//                    only the last digit is read (3.14: 사). Digits glued to Latin letters
//                    (R2D2, MP3, 2NE1) are often read in English (투, 쓰리, 원), so only a
//                    single 2, 4 or 5 is known there (이/투, 사/포, 오/파이브 agree).
//   Latin letters    the last run of letters. An all-caps run of one letter or without
//                    A/E/I/O/U (BTS, SM, HTML) is read letter by letter: L 엘 and R 알 end
//                    in ㄹ, M 엠 and N 엔 in another batchim, every other letter in a vowel.
//                    Another all-caps run (AI, IBM, NASA, KAIST) may be a word, so it is
//                    known only when the word rule below gives the same answer.
//                    Words, by their ending, as Korean loanword spelling writes them:
//                      m, n, ng              batchim  (Tom 톰, John 존, Wang 왕)
//                      l                     ㄹ       (Bill 빌, Paul 폴)
//                      a i o u y w           vowel    (Anna, Yuki, Leo, Amy, Andrew)
//                      r s x z               vowel    (Peter 피터, James 제임스, Max 맥스)
//                      h, but not ch         vowel    (Sarah 세라, Beth 베스)
//                      e after a vowel       vowel    (Chloe 클로이, Marie 마리)
//                    Anything else is unknown (Kate 케이트 but Jane 제인; Mark 마크 but
//                    Nick 닉; Zach 잭 but Bach 바흐).
//   anything else    unknown (kana, hanzi, emoji, letters with accents, ♡ …).
// With an unknown ending the particle stays exactly as the author wrote it.
//
// Which particles (AgreeParticle), written right after the name:
//   이/가 은/는 을/를 과/와 아/야 이여/여 이나/나 이랑/랑 이라고/라고 이라는/라는
//   이라도/라도 이라면/라면 이란/란 이야/야 이에요/예요 이었/였 으로/로 (ㄹ takes 로:
//   서울로; also 으로서/로서, 으로써/로써).
//   A written particle counts only when the text after it is not a Hangul syllable, so
//   "{{char}}가방" (a word) is left alone; exceptions are 이었/였, which an ending always
//   follows (였다, 이었어요), and particles that stack on 과/와 (의 는 도 만), 이랑/랑
//   (은 도 의 만) and 으로/로 (서 써 는 도 부터 만 의). The longest matching form wins.
//   A bare 야 is the vocative (보리야 → 세종아): after a name with a batchim neither
//   reading keeps 야, and a call ("{{user}}야, 일어나") is the common case in cards. Write
//   the copula as 이야 or (이)야 ("난 {{char}}(이)야") to get 세종이야 / 보리야.
//   The author's forms with parentheses are always resolved, whatever follows:
//   이(가) 가(이) 은(는) 는(은) 을(를) 를(을) 과(와) 와(과) 아(야) 야(아), (으)로…, and
//   (이) before any syllable: (이)나 (이)랑 (이)라고 (이)야 (이)에요 (이)었…
//
// web/src/josa.ts implements the same rules for the web app's strings; both are tested
// against tests/data/josa_cases.json.
//
// Thread safety: pure functions. Start with AppendNameAndParticle().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tokki::persona {

// How a name ends when read aloud in Korean.
enum class FinalSound {
  kUnknown,    // not well defined: particles stay as written
  kVowel,      // no batchim: 가 는 를 와 야 로
  kConsonant,  // a batchim other than ㄹ: 이 은 을 과 아 으로
  kRieul,      // batchim ㄹ: like kConsonant, except 로 (서울로)
};

FinalSound FinalSoundOf(std::string_view name);

struct AgreedParticle {
  size_t n_bytes = 0;    // bytes at the start of the text that the particle takes; 0 = none
  std::string particle;  // what to write instead of those bytes
};

// The particle at the start of `text` (the text right after a name), agreed with `sound`.
// n_bytes is 0 when `text` does not start with a particle or `sound` is kUnknown.
AgreedParticle AgreeParticle(FinalSound sound, std::string_view text);

// Appends `name` to `out`, then the particle `following` starts with, agreed with the
// name. Returns how many bytes of `following` the particle took (the caller continues
// after them); 0 when there is no particle or the name's ending is unknown.
size_t AppendNameAndParticle(std::string* out, std::string_view name, std::string_view following);

}  // namespace tokki::persona
