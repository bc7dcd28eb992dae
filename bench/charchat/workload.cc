#include "workload.h"

#include <algorithm>
#include <cmath>

namespace tokki::bench {

const std::vector<std::string>& CommonWords() {
  static const std::vector<std::string> kWords = {
      "the",     "and",      "you",       "that",   "was",    "for",       "are",       "with",
      "his",     "they",     "this",      "have",   "from",   "one",       "had",       "word",
      "but",     "not",      "what",      "all",    "were",   "when",      "your",      "can",
      "said",    "there",    "use",       "each",   "which",  "she",       "how",       "their",
      "will",    "other",    "about",     "out",    "many",   "then",      "them",      "these",
      "some",    "her",      "would",     "make",   "like",   "him",       "into",      "time",
      "has",     "look",     "two",       "more",   "write",  "see",       "number",    "way",
      "could",   "people",   "than",      "first",  "water",  "been",      "call",      "who",
      "its",     "now",      "find",      "long",   "down",   "day",       "did",       "get",
      "come",    "made",     "may",       "part",   "over",   "new",       "sound",     "take",
      "only",    "little",   "work",      "know",   "place",  "year",      "live",      "back",
      "give",    "most",     "very",      "after",  "thing",  "our",       "just",      "name",
      "good",    "sentence", "man",       "think",  "say",    "great",     "where",     "help",
      "through", "much",     "before",    "line",   "right",  "too",       "mean",      "old",
      "any",     "same",     "tell",      "boy",    "follow", "came",      "want",      "show",
      "also",    "around",   "form",      "three",  "small",  "set",       "put",       "end",
      "does",    "another",  "well",      "large",  "must",   "big",       "even",      "such",
      "because", "turn",     "here",      "why",    "ask",    "went",      "men",       "read",
      "need",    "land",     "different", "home",   "move",   "try",       "kind",      "hand",
      "picture", "again",    "change",    "off",    "play",   "spell",     "air",       "away",
      "animal",  "house",    "point",     "page",   "letter", "mother",    "answer",    "found",
      "study",   "still",    "learn",     "should", "world",  "high",      "every",     "near",
      "add",     "food",     "between",   "own",    "below",  "country",   "plant",     "last",
      "school",  "father",   "keep",      "tree",   "never",  "start",     "city",      "earth",
      "eye",     "light",    "thought",   "head",   "under",  "story",     "saw",       "left",
      "few",     "while",    "along",     "might",  "close",  "something", "seem",      "next",
      "hard",    "open",     "example",   "begin",  "life",   "always",    "those",     "both",
      "paper",   "together", "got",       "group",  "often",  "run",       "important", "until",
      "children"};
  return kWords;
}

std::string Words(std::mt19937_64& rng, int n_words) {
  const auto& words = CommonWords();
  std::string s;
  for (int i = 0; i < n_words; ++i) {
    if (!s.empty()) s += ' ';
    s += words[rng() % words.size()];
    if (i % 12 == 11) s += '.';
  }
  return s;
}

std::string UserLine(const std::string& user_name) {
  std::string s = "You are talking with " + user_name + ".";
  if (user_name != "User") s += " Where the text above says \"User\", it means " + user_name + ".";
  return s;
}

namespace {

Character MakeCharacter(int run_id, int c, int n_tokens, const CountTokensFn& count_tokens) {
  std::mt19937_64 rng(1000003ull * static_cast<uint64_t>(run_id) + static_cast<uint64_t>(c));
  Character ch;
  ch.name = "Character " + std::to_string(run_id) + "-" + std::to_string(c);
  ch.head =
      "You are " + ch.name + ", a warm and curious friend. Stay in character and answer briefly.";
  ch.greeting = "Hello! I am " + ch.name + ". What would you like to talk about?";
  while (count_tokens(ch.StaticText()) < n_tokens) {
    if (!ch.body.empty()) ch.body += ' ';
    ch.body += Words(rng, 24);
  }
  return ch;
}

std::vector<int> AssignCharacters(const Config& cfg, uint64_t seed) {
  std::vector<int> who(static_cast<size_t>(cfg.users));
  if (cfg.mix == "distinct") {
    for (int u = 0; u < cfg.users; ++u) who[static_cast<size_t>(u)] = u;
    return who;
  }
  const int n_chars = std::max(1, cfg.users / 4);
  std::vector<double> w(static_cast<size_t>(n_chars));
  for (int c = 0; c < n_chars; ++c) w[static_cast<size_t>(c)] = 1.0 / std::pow(c + 1, 1.2);
  std::discrete_distribution<int> zipf(w.begin(), w.end());
  std::mt19937_64 rng(seed);
  for (auto& c : who) c = zipf(rng);
  return who;
}

}  // namespace

Workload MakeWorkload(const Config& cfg, int run_id, const CountTokensFn& count_tokens) {
  Workload w;
  w.run_id = run_id;
  w.character_of = AssignCharacters(cfg, 77 + static_cast<uint64_t>(run_id));
  const int n_chars = *std::max_element(w.character_of.begin(), w.character_of.end()) + 1;
  for (int c = 0; c < n_chars; ++c)
    w.characters.push_back(MakeCharacter(run_id, c, cfg.persona_tokens, count_tokens));
  w.user_msgs.resize(static_cast<size_t>(cfg.users));
  for (int u = 0; u < cfg.users; ++u) {
    w.user_names.push_back("cc" + std::to_string(run_id) + "u" + std::to_string(u));
    std::mt19937_64 rng(5000011ull * static_cast<uint64_t>(run_id) +
                        131ull * static_cast<uint64_t>(u));
    for (int t = 0; t < cfg.turns; ++t)
      w.user_msgs[static_cast<size_t>(u)].push_back(Words(rng, cfg.user_msg_tokens - 2) + "?");
  }
  return w;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double idx = p * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(idx));
  const size_t hi = static_cast<size_t>(std::ceil(idx));
  return v[lo] + (v[hi] - v[lo]) * (idx - static_cast<double>(lo));
}

double Summary::LastOverSecond() const {
  if (p50_by_turn.size() < 2 || p50_by_turn[1] <= 0) return 0;
  return p50_by_turn.back() / p50_by_turn[1];
}

Summary Summarize(const RunResult& r) {
  Summary s;
  std::vector<double> ttft, gaps;
  std::vector<std::vector<double>> by_turn(static_cast<size_t>(std::max(0, r.cfg.turns)));
  std::vector<std::vector<double>> gaps_by_turn(by_turn.size());
  int64_t generated = 0, prompt_later = 0, cached_later = 0;
  double prompt_first = 0, prompt_last = 0;
  int n_first = 0, n_last = 0;
  for (const TurnSample& t : r.samples) {
    if (!t.ok) {
      ++s.n_failed;
      continue;
    }
    ++s.n_ok;
    ttft.push_back(t.ttft_ms);
    if (t.turn >= 0 && t.turn < r.cfg.turns) {
      by_turn[static_cast<size_t>(t.turn)].push_back(t.ttft_ms);
      auto& g = gaps_by_turn[static_cast<size_t>(t.turn)];
      g.insert(g.end(), t.gaps_ms.begin(), t.gaps_ms.end());
    }
    gaps.insert(gaps.end(), t.gaps_ms.begin(), t.gaps_ms.end());
    generated += t.completion_tokens;
    if (t.turn >= 1) {
      prompt_later += t.prompt_tokens;
      cached_later += t.cached_tokens;
    }
    if (t.turn == 0) {
      prompt_first += t.prompt_tokens;
      ++n_first;
    }
    if (t.turn == r.cfg.turns - 1) {
      prompt_last += t.prompt_tokens;
      ++n_last;
    }
  }
  s.ttft_p50 = Percentile(ttft, 0.5);
  s.ttft_p99 = Percentile(ttft, 0.99);
  s.itl_p50 = Percentile(gaps, 0.5);
  s.itl_p99 = Percentile(gaps, 0.99);
  s.itl_max = gaps.empty() ? 0 : *std::max_element(gaps.begin(), gaps.end());
  for (auto& v : by_turn) {
    s.p50_by_turn.push_back(Percentile(v, 0.5));
    s.p99_by_turn.push_back(Percentile(v, 0.99));
  }
  for (auto& v : gaps_by_turn) s.itl_p50_by_turn.push_back(Percentile(v, 0.5));
  s.tok_s = r.wall_s > 0 ? static_cast<double>(generated) / r.wall_s : 0;
  s.hit_later =
      prompt_later > 0 ? static_cast<double>(cached_later) / static_cast<double>(prompt_later) : 0;
  s.prompt_first = n_first ? prompt_first / n_first : 0;
  s.prompt_last = n_last ? prompt_last / n_last : 0;
  return s;
}

void CollectSamples(std::vector<std::vector<TurnSample>>& per_user, RunResult* r) {
  for (auto& samples : per_user)
    for (auto& s : samples) {
      if (!s.ok) {
        ++r->errors;
        if (r->first_error.empty()) r->first_error = s.error;
      }
      r->samples.push_back(std::move(s));
    }
}

}  // namespace tokki::bench
