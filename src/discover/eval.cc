#include "discover/eval.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.h"
#include "core/hash.h"
#include "core/text.h"

namespace tokki::discover {
namespace {

uint64_t Mix(uint64_t x) { return Mix64(x + kGoldenGamma); }

// Splits one CSV line on `sep`, honouring double quotes ("" inside quotes = ").
std::vector<std::string> SplitCsv(std::string_view line, char sep) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  s = Trim(s);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Feeds training rows and answers page requests for one evaluated policy.
class Policy {
 public:
  virtual ~Policy() = default;
  virtual void Swipe(Id user, Id item, Feedback feedback, int64_t at_ms) = 0;
  virtual void Prepare() {}
  virtual std::vector<Id> Page(Id user, size_t n, const std::unordered_set<Id>& exclude) = 0;
};

class TokkiPolicy : public Policy {
 public:
  TokkiPolicy(const DeckOptions& options, const std::vector<CardFeatures>& catalog)
      : deck_(options) {
    for (const auto& c : catalog) deck_.UpsertCard(c);
  }
  void Swipe(Id user, Id item, Feedback feedback, int64_t at_ms) override {
    deck_.RecordSwipe(user, item, feedback, at_ms);
  }
  void Prepare() override { deck_.TrainNow(); }
  std::vector<Id> Page(Id user, size_t n, const std::unordered_set<Id>& exclude) override {
    return deck_.Next(user, n, DeckFilter{}, exclude);
  }

 private:
  Deck deck_;
};

// Shared by the baselines: per-user swiped sets.
class BaselinePolicy : public Policy {
 public:
  void Swipe(Id user, Id item, Feedback feedback, int64_t) override {
    swiped_[user].insert(item);
    if (feedback != Feedback::kPass) ++likes_[item];
  }

 protected:
  bool Seen(Id user, Id item, const std::unordered_set<Id>& exclude) const {
    if (exclude.count(item)) return true;
    auto it = swiped_.find(user);
    return it != swiped_.end() && it->second.count(item);
  }
  std::unordered_map<Id, std::unordered_set<Id>> swiped_;
  std::unordered_map<Id, int64_t> likes_;
};

class PopularityPolicy : public BaselinePolicy {
 public:
  explicit PopularityPolicy(const std::vector<CardFeatures>& catalog) {
    for (const auto& c : catalog) ranking_.push_back(c.id);
  }
  // Ranks by training likes (ties by id); the ranking stays fixed during sessions.
  void Prepare() override {
    std::stable_sort(ranking_.begin(), ranking_.end(), [&](Id a, Id b) {
      const int64_t la = Likes(a), lb = Likes(b);
      return la > lb || (la == lb && a < b);
    });
  }
  std::vector<Id> Page(Id user, size_t n, const std::unordered_set<Id>& exclude) override {
    std::vector<Id> out;
    for (Id item : ranking_) {
      if (out.size() >= n) break;
      if (!Seen(user, item, exclude)) out.push_back(item);
    }
    return out;
  }

 private:
  int64_t Likes(Id item) const {
    auto it = likes_.find(item);
    return it == likes_.end() ? 0 : it->second;
  }
  std::vector<Id> ranking_;
};

class RandomPolicy : public BaselinePolicy {
 public:
  RandomPolicy(const std::vector<CardFeatures>& catalog, uint64_t seed) : rng_(seed) {
    for (const auto& c : catalog) items_.push_back(c.id);
  }
  std::vector<Id> Page(Id user, size_t n, const std::unordered_set<Id>& exclude) override {
    std::vector<Id> out;
    std::unordered_set<Id> picked;
    for (size_t tries = 0; out.size() < n && tries < 50 * n + items_.size() / 4; ++tries) {
      const Id item = items_[rng_() % items_.size()];
      if (!Seen(user, item, exclude) && picked.insert(item).second) out.push_back(item);
    }
    return out;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<Id> items_;
};

struct UserSplit {
  std::vector<const RatingRow*> train;
  std::unordered_map<Id, double> hidden;  // item -> rating
  size_t n_hidden_likes = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i =
      std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

Result<std::vector<RatingRow>> ReadInteractionsCsv(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Status::NotFound("cannot open " + path);
  std::vector<RatingRow> rows;
  std::string line;
  size_t line_no = 0;
  while (std::getline(f, line)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    char sep = ',';
    if (line.find("::") != std::string::npos) {
      std::string fixed;
      for (size_t i = 0; i < line.size(); ++i) {
        if (line.compare(i, 2, "::") == 0)
          fixed += ',', ++i;
        else
          fixed += line[i];
      }
      line = std::move(fixed);
    } else if (line.find('\t') != std::string::npos) {
      sep = '\t';
    }
    const auto parts = SplitCsv(line, sep);
    RatingRow r;
    if (parts.size() < 3 || !ParseNumber(parts[0], r.user) || !ParseNumber(parts[1], r.item) ||
        !ParseNumber(parts[2], r.rating)) {
      if (rows.empty() && line_no == 1) continue;  // header
      return Status::InvalidArgument(path + ":" + std::to_string(line_no) +
                                     ": expected user,item,rating[,timestamp]");
    }
    if (parts.size() >= 4 && ParseNumber(parts[3], r.timestamp)) r.has_timestamp = true;
    rows.push_back(r);
  }
  return rows;
}

Result<std::vector<CardFeatures>> ReadItemsCsv(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Status::NotFound("cannot open " + path);
  std::vector<CardFeatures> items;
  std::string line;
  size_t line_no = 0;
  while (std::getline(f, line)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    const auto parts = SplitCsv(line, ',');
    CardFeatures c;
    if (parts.empty() || !ParseNumber(parts[0], c.id)) {
      if (line_no == 1) continue;  // header
      return Status::InvalidArgument(path + ":" + std::to_string(line_no) + ": expected an id");
    }
    if (parts.size() > 1) c.language = std::string(Trim(parts[1]));
    if (parts.size() > 2) c.real_person = Trim(parts[2]) == "1" || Trim(parts[2]) == "true";
    if (parts.size() > 3) c.tags = SplitTrimmed(parts[3], '|');
    for (size_t i = 4; i < parts.size(); ++i) c.text += (i > 4 ? "," : "") + parts[i];
    c.listed = true;
    items.push_back(std::move(c));
  }
  return items;
}

Result<std::vector<PolicyReport>> EvaluateFeed(const std::vector<RatingRow>& rows,
                                               const std::vector<CardFeatures>& items,
                                               const EvalOptions& options) {
  if (options.deck_size == 0 || options.page_size == 0)
    return Status::InvalidArgument("deck size and page size must be positive");
  if (options.holdout_fraction <= 0 || options.holdout_fraction >= 1)
    return Status::InvalidArgument("holdout fraction must be in (0, 1)");
  if (rows.empty()) return Status::InvalidArgument("no interactions");

  // Catalog: the items file plus every item seen in the rows.
  std::vector<CardFeatures> catalog;
  std::unordered_set<Id> known;
  for (const auto& c : items)
    if (known.insert(c.id).second) catalog.push_back(c);
  for (const auto& r : rows)
    if (known.insert(r.item).second) {
      CardFeatures c;
      c.id = r.item;
      catalog.push_back(std::move(c));
    }

  // Per-user split.
  const bool all_timed =
      std::all_of(rows.begin(), rows.end(), [](const RatingRow& r) { return r.has_timestamp; });
  const bool time_split = options.split == SplitMode::kTime && all_timed;
  std::map<Id, std::vector<const RatingRow*>> by_user;  // ordered: deterministic
  for (const auto& r : rows) by_user[r.user].push_back(&r);
  std::map<Id, UserSplit> splits;
  for (auto& [user, list] : by_user) {
    if (time_split) {
      std::stable_sort(list.begin(), list.end(), [](const RatingRow* a, const RatingRow* b) {
        return a->timestamp < b->timestamp;
      });
    } else {
      std::mt19937_64 rng(Mix(options.seed ^ Mix(static_cast<uint64_t>(user))));
      std::shuffle(list.begin(), list.end(), rng);
    }
    const size_t n_hidden =
        list.size() < 2
            ? 0
            : std::max<size_t>(
                  1, static_cast<size_t>(std::lround(options.holdout_fraction * list.size())));
    UserSplit& sp = splits[user];
    for (size_t i = 0; i < list.size(); ++i) {
      if (i < list.size() - n_hidden) {
        sp.train.push_back(list[i]);
      } else {
        sp.hidden[list[i]->item] = list[i]->rating;  // later rows win on duplicates
      }
    }
    for (const auto& [item, rating] : sp.hidden)
      sp.n_hidden_likes += rating >= options.like_threshold;
  }

  // Users evaluated: those with a hidden like; a seeded sample when capped.
  std::vector<Id> eval_users;
  for (const auto& [user, sp] : splits)
    if (sp.n_hidden_likes > 0) eval_users.push_back(user);
  {
    std::mt19937_64 rng(Mix(options.seed + 17));
    std::shuffle(eval_users.begin(), eval_users.end(), rng);
  }
  if (options.max_users > 0 && eval_users.size() > options.max_users)
    eval_users.resize(options.max_users);

  std::vector<PolicyReport> reports;
  for (const auto& name : options.policies) {
    std::unique_ptr<Policy> policy;
    if (name == "tokki") {
      policy = std::make_unique<TokkiPolicy>(options.deck, catalog);
    } else if (name == "popularity") {
      policy = std::make_unique<PopularityPolicy>(catalog);
    } else if (name == "random") {
      policy = std::make_unique<RandomPolicy>(catalog, Mix(options.seed + 99));
    } else {
      return Status::InvalidArgument("unknown policy: " + name);
    }
    // Training swipes; ignored (middle) ratings are never shown either.
    std::unordered_map<Id, std::unordered_set<Id>> ignored;
    for (const auto& [user, sp] : splits) {
      for (const RatingRow* r : sp.train) {
        const int64_t at = r->has_timestamp ? r->timestamp : 0;
        if (r->rating >= options.like_threshold) {
          policy->Swipe(user, r->item, Feedback::kLike, at);
        } else if (r->rating <= 2) {
          policy->Swipe(user, r->item, Feedback::kPass, at);
        } else {
          ignored[user].insert(r->item);
        }
      }
    }
    policy->Prepare();

    PolicyReport rep;
    rep.policy = name;
    rep.deck_size = options.deck_size;
    rep.time_split = time_split;
    std::unordered_set<Id> shown_any;
    std::vector<double> t_us;
    double sum_likes = 0, sum_first = 0, sum_ndcg = 0, sum_max = 0;
    const std::unordered_set<Id> none;
    for (Id user : eval_users) {
      const UserSplit& sp = splits[user];
      auto ig = ignored.find(user);
      const std::unordered_set<Id>& exclude = ig == ignored.end() ? none : ig->second;
      size_t n_shown = 0, n_likes = 0, first_like = 0;
      double dcg = 0;
      int64_t at = 0;
      while (n_shown < options.deck_size) {
        const size_t want = std::min(options.page_size, options.deck_size - n_shown);
        const int64_t t0 = NowSteadyUs();
        const std::vector<Id> page = policy->Page(user, want, exclude);
        t_us.push_back(static_cast<double>(NowSteadyUs() - t0));
        if (page.empty()) break;
        for (Id item : page) {
          if (n_shown >= options.deck_size) break;
          ++n_shown;
          shown_any.insert(item);
          auto h = sp.hidden.find(item);
          const bool liked = h != sp.hidden.end() && h->second >= options.like_threshold;
          if (liked) {
            ++n_likes;
            if (first_like == 0) first_like = n_shown;
            dcg += 1.0 / std::log2(static_cast<double>(n_shown) + 1.0);
          }
          policy->Swipe(user, item, liked ? Feedback::kLike : Feedback::kPass, ++at);
        }
      }
      double idcg = 0;
      for (size_t i = 1; i <= std::min(sp.n_hidden_likes, options.deck_size); ++i)
        idcg += 1.0 / std::log2(static_cast<double>(i) + 1.0);
      sum_likes += static_cast<double>(n_likes);
      sum_max += static_cast<double>(std::min(sp.n_hidden_likes, options.deck_size));
      sum_first += static_cast<double>(first_like ? first_like : options.deck_size + 1);
      sum_ndcg += idcg > 0 ? dcg / idcg : 0;
    }
    const double n = static_cast<double>(std::max<size_t>(1, eval_users.size()));
    rep.users_evaluated = eval_users.size();
    rep.likes_in_first_n = sum_likes / n;
    rep.max_likes_in_first_n = sum_max / n;
    rep.cards_to_first_like = sum_first / n;
    rep.ndcg_at_n = sum_ndcg / n;
    rep.coverage = catalog.empty() ? 0
                                   : static_cast<double>(shown_any.size()) /
                                         static_cast<double>(catalog.size());
    rep.next_p50_us = Percentile(t_us, 0.5);
    rep.next_p99_us = Percentile(t_us, 0.99);
    reports.push_back(std::move(rep));
  }
  return reports;
}

std::string ReportJson(const PolicyReport& r) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "{\"policy\":\"%s\",\"users_evaluated\":%zu,\"deck_size\":%zu,"
                "\"likes_in_first_n\":%.4f,\"max_likes_in_first_n\":%.4f,\"cards_to_first_like\":%."
                "4f,\"ndcg_at_n\":%.4f,"
                "\"coverage\":%.4f,\"split\":\"%s\",\"page_p50_us\":%.0f,\"page_p99_us\":%.0f}",
                r.policy.c_str(), r.users_evaluated, r.deck_size, r.likes_in_first_n,
                r.max_likes_in_first_n, r.cards_to_first_like, r.ndcg_at_n, r.coverage,
                r.time_split ? "time" : "random", r.next_p50_us, r.next_p99_us);
  return buf;
}

}  // namespace tokki::discover
