#include "corpus.h"

#include <algorithm>

#include "core/hash.h"

namespace tokki::bench::memory {
namespace {

const std::string& Pick(SplitMix64& rng, const std::vector<std::string>& v) {
  return v[rng.Next() % v.size()];
}

// Replaces each "{name}" of `tmpl` with a word of that slot.
std::string Fill(const Language& lang, const std::string& tmpl, SplitMix64& rng) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    const size_t open = tmpl.find('{', i);
    if (open == std::string::npos) break;
    const size_t close = tmpl.find('}', open);
    if (close == std::string::npos) break;
    out.append(tmpl, i, open - i);
    const std::string name = tmpl.substr(open + 1, close - open - 1);
    bool filled = false;
    for (const Slot& s : lang.slots)
      if (s.name == name) {
        out += Pick(rng, s.words);
        filled = true;
        break;
      }
    if (!filled) out.append(tmpl, open, close - open + 1);
    i = close + 1;
  }
  out.append(tmpl, i, std::string::npos);
  return out;
}

}  // namespace

std::vector<Exchange> MakeConversation(const Language& lang, int n_exchanges, uint64_t seed,
                                       double planted_fraction) {
  SplitMix64 rng(seed);
  std::vector<Exchange> out;
  out.reserve(static_cast<size_t>(n_exchanges));
  const int n_facts = static_cast<int>(lang.facts.size());
  const int span = std::max(n_facts, static_cast<int>(n_exchanges * planted_fraction));
  // Fact f goes to exchange (f + 0.5) * span / n_facts: evenly over the first `span`.
  int next_fact = 0;
  for (int i = 0; i < n_exchanges; ++i) {
    Exchange e;
    if (next_fact < n_facts && i >= (2 * next_fact + 1) * span / (2 * n_facts)) {
      e.fact = next_fact++;
      e.user = lang.facts[static_cast<size_t>(e.fact)].text;
      e.reply = Pick(rng, lang.fact_replies);
    } else {
      e.user = Fill(lang, Pick(rng, lang.user_templates), rng);
      // An opening and a closing line half of the time each, as replies vary.
      std::string reply = Fill(lang, Pick(rng, lang.reply_templates), rng);
      if (rng.Next() % 2) reply = Fill(lang, "{open}", rng) + lang.separator + reply;
      if (rng.Next() % 2) reply += lang.separator + Fill(lang, "{close}", rng);
      e.reply = std::move(reply);
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace tokki::bench::memory
