// bench/memory/corpus.h — the conversations memory_bench replays: everyday small talk in
// Korean, English and Chinese, built from templates and word lists (no external data),
// with about twenty facts about the user planted early, and two probes per fact asked at
// the end: one sharing a content word with the fact, one paraphrase sharing none.
//
// Deterministic: the same language, length and seed give the same conversation.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tokki::bench::memory {

struct Fact {
  std::string text;              // what the user says (one message)
  std::string shared_probe;      // asked later; shares a content word with `text`
  std::string paraphrase_probe;  // asked later; shares no content word with `text`
};

// One slot of the templates: "{place}" and the words it takes.
struct Slot {
  std::string name;
  std::vector<std::string> words;
};

struct Language {
  std::string code;  // "ko" | "en" | "zh"
  std::string character_name;
  std::string character_description;
  std::string greeting;
  std::vector<Fact> facts;
  std::vector<std::string> user_templates;
  std::vector<std::string> reply_templates;
  std::vector<std::string> fact_replies;  // the friend's answer to a fact
  std::vector<Slot> slots;      // include "open" and "close": lines a reply may start or end with
  std::string separator = " ";  // between sentences
};

// Korean, English and Chinese, in that order.
const std::vector<Language>& Languages();

struct Exchange {
  std::string user;
  std::string reply;
  int fact = -1;  // index into Language::facts when `user` is a planted fact
};

// `n_exchanges` exchanges of small talk; the facts are spread evenly over the first
// `planted_fraction` of them.
std::vector<Exchange> MakeConversation(const Language& lang, int n_exchanges, uint64_t seed,
                                       double planted_fraction = 0.1);

}  // namespace tokki::bench::memory
