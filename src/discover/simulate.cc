#include "discover/simulate.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <unordered_set>

namespace tokki::discover {
namespace {

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A made-up word in the script of `lang`.
std::string MakeWord(const std::string& lang, std::mt19937_64& rng) {
  std::string w;
  const int n_syllables = 2 + static_cast<int>(rng() % 2);
  if (lang == "ko") {
    for (int i = 0; i < n_syllables; ++i)
      AppendUtf8(w, 0xAC00 + static_cast<char32_t>(rng() % 2000));
  } else if (lang == "zh") {
    for (int i = 0; i < n_syllables; ++i)
      AppendUtf8(w, 0x4E00 + static_cast<char32_t>(rng() % 3000));
  } else {
    static constexpr const char* kOnset[] = {"b", "c", "d", "f", "g", "h", "k",  "l",  "m",  "n",
                                             "p", "r", "s", "t", "v", "z", "br", "st", "tr", "sh"};
    static constexpr const char* kVowel[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou"};
    for (int i = 0; i < n_syllables + 1; ++i) {
      w += kOnset[rng() % 20];
      w += kVowel[rng() % 8];
    }
  }
  return w;
}

// Indices of the `k` largest of scores[i] + Gumbel noise (sampling without replacement
// proportionally to exp(score)).
std::vector<size_t> GumbelTopK(const std::vector<double>& scores, size_t k, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uni(1e-12, 1.0);
  std::vector<std::pair<double, size_t>> keyed(scores.size());
  for (size_t i = 0; i < scores.size(); ++i)
    keyed[i] = {scores[i] - std::log(-std::log(uni(rng))), i};
  k = std::min(k, keyed.size());
  std::partial_sort(keyed.begin(), keyed.begin() + k, keyed.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<size_t> out(k);
  for (size_t i = 0; i < k; ++i) out[i] = keyed[i].second;
  return out;
}

struct Lexicon {
  std::vector<std::string> words;
  std::vector<float> dirs;  // words x n_latent
};

}  // namespace

int Simulation::Stars(double utility) {
  if (utility < -1.0) return 1;
  if (utility < -0.3) return 2;
  if (utility < 0.3) return 3;
  if (utility < 0.9) return 4;
  return 5;
}

Simulation::Simulation(SimOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  const int d = o.n_latent;
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(d));
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<double> lang_weights;
  for (const auto& [l, w] : o.languages) lang_weights.push_back(w);
  std::discrete_distribution<size_t> pick_lang(lang_weights.begin(), lang_weights.end());

  // Tags and per-language lexicons, each word/tag with a latent direction.
  std::vector<std::string> tag_names;
  static constexpr const char* kTagWords[] = {
      "romance", "fantasy",   "history", "mentor",  "comedy",  "mystery", "scifi",   "horror",
      "slice",   "adventure", "music",   "poetry",  "science", "warrior", "royalty", "detective",
      "school",  "cooking",   "travel",  "sports",  "villain", "healer",  "idol",    "gamer",
      "pirate",  "witch",     "robot",   "samurai", "scholar", "artist",  "doctor",  "spy"};
  for (size_t t = 0; t < o.n_tags; ++t)
    tag_names.push_back(t < 32 ? std::string(kTagWords[t]) : "tag" + std::to_string(t));
  std::vector<float> tag_dirs(o.n_tags * d);
  for (auto& x : tag_dirs) x = normal(rng);
  std::vector<Lexicon> lexicons(o.languages.size());
  for (size_t l = 0; l < o.languages.size(); ++l) {
    std::unordered_set<std::string> seen;
    while (lexicons[l].words.size() < o.words_per_language) {
      std::string w = MakeWord(o.languages[l].first, rng);
      if (seen.insert(w).second) lexicons[l].words.push_back(std::move(w));
    }
    lexicons[l].dirs.resize(o.words_per_language * d);
    for (auto& x : lexicons[l].dirs) x = normal(rng);
  }

  // Cards.
  card_taste_.resize(o.n_cards * d);
  for (auto& x : card_taste_) x = normal(rng);
  // Popularity: Zipf over a random permutation; quality partly follows popularity.
  std::vector<size_t> rank(o.n_cards);
  std::iota(rank.begin(), rank.end(), 0);
  std::shuffle(rank.begin(), rank.end(), rng);
  std::vector<double> pop(o.n_cards);
  for (size_t i = 0; i < o.n_cards; ++i) pop[i] = std::pow(1.0 + rank[i], -o.popularity_skew);
  double mean_lp = 0, sd_lp = 0;
  for (double p : pop) mean_lp += std::log(p);
  mean_lp /= std::max<size_t>(1, o.n_cards);
  for (double p : pop) sd_lp += (std::log(p) - mean_lp) * (std::log(p) - mean_lp);
  sd_lp = std::sqrt(sd_lp / std::max<size_t>(1, o.n_cards)) + 1e-9;
  card_quality_.resize(o.n_cards);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  cards_.resize(o.n_cards);
  for (size_t i = 0; i < o.n_cards; ++i) {
    card_quality_[i] = static_cast<float>(o.quality_weight * (std::log(pop[i]) - mean_lp) / sd_lp +
                                          0.3 * normal(rng));
    const float* q = &card_taste_[i * d];
    CardFeatures& c = cards_[i];
    c.id = static_cast<Id>(i + 1);
    const size_t l = pick_lang(rng);
    c.language = o.languages[l].first;
    c.real_person = uni(rng) < o.real_person_fraction;
    c.listed = true;
    c.created_at_ms = o.start_ms - static_cast<int64_t>(rng() % 1'000'000'000);
    std::vector<double> s(o.n_tags);
    for (size_t t = 0; t < o.n_tags; ++t) {
      double dot = 0;
      for (int k = 0; k < d; ++k) dot += q[k] * tag_dirs[t * d + k];
      s[t] = 1.5 * dot * inv_sqrt_d;
    }
    for (size_t t : GumbelTopK(s, 3, rng)) c.tags.push_back(tag_names[t]);
    const Lexicon& lex = lexicons[l];
    std::vector<double> ws(lex.words.size());
    for (size_t w = 0; w < lex.words.size(); ++w) {
      double dot = 0;
      for (int k = 0; k < d; ++k) dot += q[k] * lex.dirs[w * d + k];
      ws[w] = 1.5 * dot * inv_sqrt_d;
    }
    const auto picked = GumbelTopK(ws, 14, rng);
    std::string name = MakeWord(c.language, rng);
    name[0] = static_cast<char>(name[0] >= 'a' && name[0] <= 'z' ? name[0] - 32 : name[0]);
    std::string text = name + ". ";
    for (size_t k = 0; k < picked.size(); ++k) {
      text += lex.words[picked[k]];
      text += k == 3 ? ". " : " ";
    }
    c.text = std::move(text);
  }

  // Users and their ratings.
  user_taste_.resize(o.n_users * d);
  for (auto& x : user_taste_) x = normal(rng);
  user_lang_.resize(o.n_users);
  for (auto& l : user_lang_) l = o.languages[pick_lang(rng)].first;
  std::vector<double> cum(o.n_cards);
  std::partial_sum(pop.begin(), pop.end(), cum.begin());
  for (size_t u = 0; u < o.n_users; ++u) {
    const Id user = static_cast<Id>(u + 1);
    const size_t n_obs =
        o.min_ratings +
        (o.max_ratings > o.min_ratings ? rng() % (o.max_ratings - o.min_ratings + 1) : 0);
    // Candidates seen, by popularity; then what gets rated, by taste.
    std::unordered_set<size_t> cand_set;
    const size_t n_cand = std::min(o.n_cards, std::max<size_t>(o.browse_factor * n_obs, 200));
    std::uniform_real_distribution<double> pick(0.0, cum.back());
    for (size_t tries = 0; cand_set.size() < n_cand && tries < 20 * n_cand; ++tries)
      cand_set.insert(std::lower_bound(cum.begin(), cum.end(), pick(rng)) - cum.begin());
    std::vector<size_t> cand(cand_set.begin(), cand_set.end());
    std::sort(cand.begin(), cand.end());
    std::vector<double> score(cand.size());
    for (size_t j = 0; j < cand.size(); ++j)
      score[j] = o.taste_exposure * Utility(user, static_cast<Id>(cand[j] + 1));
    const auto chosen = GumbelTopK(score, n_obs, rng);
    int64_t t = o.start_ms + static_cast<int64_t>(rng() % 100'000'000);
    std::vector<size_t> order(chosen.begin(), chosen.end());
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t j : order) {
      const Id card = static_cast<Id>(cand[j] + 1);
      const double util = Utility(user, card) + o.noise_sd * normal(rng);
      t += 1000 + static_cast<int64_t>(rng() % 600'000);
      ratings_.push_back({user, card, Stars(util), t});
    }
  }
}

const std::string& Simulation::user_language(Id user) const {
  return user_lang_.at(static_cast<size_t>(user - 1));
}

double Simulation::Utility(Id user, Id card) const {
  const int d = options_.n_latent;
  const auto u = static_cast<size_t>(user - 1), c = static_cast<size_t>(card - 1);
  double dot = 0;
  for (int k = 0; k < d; ++k) dot += user_taste_[u * d + k] * card_taste_[c * d + k];
  double util = dot / std::sqrt(static_cast<double>(d)) + card_quality_[c];
  if (cards_[c].language != user_lang_[u]) util -= options_.other_language_penalty;
  return util;
}

Status Simulation::WriteInteractionsCsv(const std::string& path) const {
  std::ofstream f(path);
  if (!f) return Status::InvalidArgument("cannot write " + path);
  f << "user,item,rating,timestamp\n";
  for (const auto& r : ratings_)
    f << r.user << ',' << r.card << ',' << r.rating << ',' << r.timestamp_ms << '\n';
  f.flush();
  return f ? Status::Ok() : Status::Internal("write failed: " + path);
}

Status Simulation::WriteItemsCsv(const std::string& path) const {
  std::ofstream f(path);
  if (!f) return Status::InvalidArgument("cannot write " + path);
  f << "id,language,real_person,tags,text\n";
  for (const auto& c : cards_) {
    std::string tags;
    for (const auto& t : c.tags) tags += (tags.empty() ? "" : "|") + t;
    std::string text;
    for (char ch : c.text) text += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    f << c.id << ',' << c.language << ',' << (c.real_person ? 1 : 0) << ',' << tags << ",\"" << text
      << "\"\n";
  }
  f.flush();
  return f ? Status::Ok() : Status::Internal("write failed: " + path);
}

}  // namespace tokki::discover
