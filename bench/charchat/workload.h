// bench/charchat/workload.h — the CharChat-MT workload (../shared/docs/bench.md beside the
// repository): which user talks to which character, the persona and message texts, what one
// turn records, and the summary figures. Shared by every mode of charchat (charchat.cc).
//
// Texts are deterministic for a run id: the same run id gives both systems of a round the
// same characters, names and messages.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tokki::bench {

struct Config {
  int users = 16;
  std::string mix = "popular";  // distinct (C = U) | popular (C = U/4, Zipf 1.2)
  int turns = 6;
  int reply_tokens = 48;
  int persona_tokens = 400;
  int user_msg_tokens = 30;
};

// About 200 common English words; most are one token with a leading space.
const std::vector<std::string>& CommonWords();

// `n_words` common words with a full stop every 12.
std::string Words(std::mt19937_64& rng, int n_words);

// One character. In Tokki it is a card with `head` as its system prompt, `body` as its
// description and `greeting` as its first message; Tokki's prompt then starts with
// StaticText() (persona/prompt.h), which is what the llama-server client sends too.
struct Character {
  std::string name;
  std::string head;
  std::string body;
  std::string greeting;
  std::string StaticText() const { return head + "\n\n" + body; }
};

// What Tokki's prompt builder tells the model about the user (persona/prompt.cc).
std::string UserLine(const std::string& user_name);

using CountTokensFn = std::function<int(std::string_view)>;

struct Workload {
  int run_id = 0;
  std::vector<Character> characters;                // by character
  std::vector<int> character_of;                    // by user
  std::vector<std::string> user_names;              // by user
  std::vector<std::vector<std::string>> user_msgs;  // [user][turn]
};

// Characters of about cfg.persona_tokens tokens (counted with `count_tokens`), user
// messages of about cfg.user_msg_tokens tokens, characters assigned by cfg.mix.
Workload MakeWorkload(const Config& cfg, int run_id, const CountTokensFn& count_tokens);

// One reply as a client saw it.
struct TurnSample {
  int user = 0;
  int turn = 0;                 // 0-based
  double ttft_ms = 0;           // send -> first token
  double engine_ttft_ms = 0;    // tokki: the engine's own (submit -> first token), from `done`
  std::vector<double> gaps_ms;  // between consecutive token events of this reply
  int token_events = 0;
  int prompt_tokens = 0;
  int cached_tokens = 0;
  int completion_tokens = 0;
  bool ok = false;
  std::string error;
};

struct RunResult {
  std::string system;
  Config cfg;
  std::vector<TurnSample> samples;
  double wall_s = 0;
  int64_t peak_rss_kb = 0;
  int errors = 0;
  std::string first_error;
};

struct Summary {
  int n_ok = 0, n_failed = 0;
  double ttft_p50 = 0, ttft_p99 = 0;
  double itl_p50 = 0, itl_p99 = 0, itl_max = 0;
  double tok_s = 0;
  double hit_later = 0;                          // cached / prompt tokens on turns >= 1 (0-based)
  double prompt_first = 0, prompt_last = 0;      // mean prompt tokens of the first/last turn
  std::vector<double> p50_by_turn, p99_by_turn;  // TTFT
  std::vector<double> itl_p50_by_turn;
  // TTFT p50 of the last turn / of the second (0 when there is no second turn).
  double LastOverSecond() const;
};

double Percentile(std::vector<double> v, double p);
Summary Summarize(const RunResult& r);
// Moves every user's samples into `r`, counting failed ones (the first error is kept).
void CollectSamples(std::vector<std::vector<TurnSample>>& per_user, RunResult* r);

}  // namespace tokki::bench
