#include "persona/content_policy.h"

#include <re2/re2.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/text.h"
#include "persona/card_json.h"

namespace tokki::persona {
namespace {

using nlohmann::json;

constexpr int64_t kRuleMaxMemBytes = 1 << 20;       // one rule, compiled alone
constexpr int64_t kCombinedMaxMemBytes = 64 << 20;  // all rules of one action and language

// A character that ends a word for a term edge that needs a boundary: anything but a
// letter, mark, digit or '_', or a letter of a script written without spaces.
constexpr const char* kNoSpaceScripts =
    R"(\p{Han}\p{Hangul}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar})";
const std::string& BoundaryChar() {
  static const std::string s = std::string(R"((?:[^\pL\pM\pN_]|[)") + kNoSpaceScripts + "])";
  return s;
}

re2::RE2::Options RuleOptions(int64_t max_mem) {
  re2::RE2::Options opt;
  opt.set_log_errors(false);
  opt.set_max_mem(max_mem);
  return opt;
}

// True when an edge code point of a term must sit on a word boundary.
bool NeedsBoundary(std::string_view code_point) {
  static const re2::RE2 word(R"([\pL\pM\pN_])", RuleOptions(kRuleMaxMemBytes));
  static const re2::RE2 no_space(std::string("[") + kNoSpaceScripts + "]",
                                 RuleOptions(kRuleMaxMemBytes));
  return re2::RE2::FullMatch(code_point, word) && !re2::RE2::FullMatch(code_point, no_space);
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::string_view FirstCodePoint(std::string_view s) {
  size_t n = 1;
  while (n < s.size() && IsContinuation(s[n])) ++n;
  return s.substr(0, n);
}

std::string_view LastCodePoint(std::string_view s) {
  size_t start = s.size() - 1;
  while (start > 0 && IsContinuation(s[start])) --start;
  return s.substr(start);
}

// Expected length of the UTF-8 sequence led by `c`; 0 for a byte that cannot lead one.
size_t SequenceLength(char c) {
  auto b = static_cast<unsigned char>(c);
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if ((b & 0xF8) == 0xF0) return 4;
  return 0;
}

// The largest p <= pos such that s[0, p) does not end inside a UTF-8 sequence. Invalid
// bytes are left where they are (they cannot be completed anyway).
size_t SafeCut(std::string_view s, size_t pos) {
  size_t q = pos, n_cont = 0;
  while (q > 0 && n_cont < 4 && IsContinuation(s[q - 1])) --q, ++n_cont;
  if (q == 0) return pos;
  size_t len = SequenceLength(s[q - 1]);
  if (len > 1 && n_cont + 1 < len) return q - 1;  // the sequence is not complete yet
  return pos;
}

// `s` cut to `max_bytes` and with invalid bytes dropped.
std::string Excerpt(std::string_view s) {
  s = Utf8Truncate(s, kMaxPolicyExcerptBytes);
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t len = SequenceLength(s[i]);
    if (len > 0 && i + len <= s.size() && IsValidUtf8(s.substr(i, len))) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      ++i;
    }
  }
  return out;
}

// "ko-KR" → "ko"; "" stays "".
std::string PrimaryTag(std::string_view language) {
  size_t end = language.find_first_of("-_");
  return AsciiLower(language.substr(0, end));
}

bool IsPrimaryTag(std::string_view tag) {
  if (tag.size() < 2 || tag.size() > 3) return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

std::string_view ActionName(PolicyAction a) {
  return a == PolicyAction::kBlock ? "block" : "review";
}

Status RuleError(size_t index, std::string_view id, std::string_view what) {
  std::string name =
      id.empty() ? "rule " + std::to_string(index) : "rule '" + std::string(id) + "'";
  return Status::InvalidArgument("content policy: " + name + ": " + std::string(what));
}

}  // namespace

// One RE2 over the rules of one action. Terms are grouped by which edges need a
// boundary, so the (large) boundary class appears at most four times whatever the number
// of terms, and each group is one plain alternation that RE2 can factor into a trie
// (a capturing group per term would defeat that and run the DFA out of memory). Each
// term group and each pattern is one capturing group; which term of a group matched is
// found afterwards from the captured text.
struct Alternative {
  std::vector<const PolicyRule*> rules;                 // the terms of one group, or one pattern
  std::vector<std::shared_ptr<const re2::RE2>> folded;  // (?i:term) for each term
};

struct CompiledRules {
  std::unique_ptr<re2::RE2> re;   // null when there are no rules
  std::vector<int> alt_of_group;  // capturing group → alts index; -1: a pattern's own group
  std::vector<Alternative> alts;
  size_t max_match_bytes = 0;
};

struct ContentPolicy::Matcher {
  CompiledRules block;
  CompiledRules review;
};

namespace {

// `folded(r)`: the term `r` alone as (?i:term), shared by every language's matcher.
template <typename Folded>
Status Compile(const std::vector<const PolicyRule*>& rules, std::string_view language,
               PolicyAction action, const Folded& folded, CompiledRules* out) {
  if (rules.empty()) return Status::Ok();
  Alternative terms[4];  // [lead boundary * 2 + trail boundary]
  std::vector<const PolicyRule*> patterns;
  for (const PolicyRule* r : rules) {
    if (r->is_pattern) {
      patterns.push_back(r);
      out->max_match_bytes = std::max(out->max_match_bytes, kPolicyPatternWindowBytes);
      continue;
    }
    int kind = (NeedsBoundary(FirstCodePoint(r->text)) ? 2 : 0) +
               (NeedsBoundary(LastCodePoint(r->text)) ? 1 : 0);
    terms[kind].rules.push_back(r);
    terms[kind].folded.push_back(folded(r));
    out->max_match_bytes = std::max(out->max_match_bytes, 3 * r->text.size() + 8);
  }
  std::string pattern;
  out->alt_of_group.assign(1, -1);  // group 0 is the whole match
  auto add_alternative = [&](const std::string& alt) {
    if (!pattern.empty()) pattern += '|';
    pattern += "(?:" + alt + ")";
  };
  const std::string& b = BoundaryChar();
  for (int kind = 3; kind >= 0; --kind) {
    if (terms[kind].rules.empty()) continue;
    std::string alt;
    for (const PolicyRule* r : terms[kind].rules) {
      if (!alt.empty()) alt += '|';
      alt += re2::RE2::QuoteMeta(r->text);
    }
    alt = "((?i:" + alt + "))";
    if (kind & 2) alt = "(?:^|" + b + ")" + alt;
    if (kind & 1) alt = alt + "(?:$|" + b + ")";
    add_alternative(alt);
    out->alt_of_group.push_back(static_cast<int>(out->alts.size()));
    out->alts.push_back(std::move(terms[kind]));
  }
  for (const PolicyRule* r : patterns) {
    // The rule compiled alone (FromJson checked it) tells how many groups it brings.
    re2::RE2 alone(r->text, RuleOptions(kRuleMaxMemBytes));
    add_alternative("(" + r->text + ")");
    out->alt_of_group.push_back(static_cast<int>(out->alts.size()));
    out->alt_of_group.insert(out->alt_of_group.end(), alone.NumberOfCapturingGroups(), -1);
    out->alts.push_back(Alternative{{r}, {}});
  }
  out->re = std::make_unique<re2::RE2>(pattern, RuleOptions(kCombinedMaxMemBytes));
  if (!out->re->ok()) {
    std::string lang =
        language.empty() ? "every language" : "language '" + std::string(language) + "'";
    return Status::InvalidArgument("content policy: the " + std::string(ActionName(action)) +
                                   " rules for " + lang + " do not compile together (" +
                                   out->re->error() + ")");
  }
  if (out->re->NumberOfCapturingGroups() + 1 != static_cast<int>(out->alt_of_group.size()))
    return Status::Internal("content policy: capturing groups do not line up with the rules");
  return Status::Ok();
}

Status ValidatePattern(size_t index, const PolicyRule& r) {
  re2::RE2 re(r.text, RuleOptions(kRuleMaxMemBytes));
  if (!re.ok()) return RuleError(index, r.id, "bad pattern: " + re.error());
  if (!re.NamedCapturingGroups().empty())
    return RuleError(index, r.id, "named groups are not supported; use (?:...)");
  // An empty match would hit every text; probe a few positions.
  for (std::string_view probe : {"", " a 가.\n"}) {
    re2::StringPiece m;
    if (re.Match(probe, 0, probe.size(), re2::RE2::UNANCHORED, &m, 1) && m.empty())
      return RuleError(index, r.id, "the pattern can match the empty string");
  }
  return Status::Ok();
}

}  // namespace

ContentPolicy::~ContentPolicy() = default;

Result<std::shared_ptr<const ContentPolicy>> ContentPolicy::FromJson(std::string_view text) {
  TOKKI_ASSIGN_OR_RETURN(json doc, internal::ParseJsonLimited(text, "content policy"));
  if (!doc.is_object()) return Status::InvalidArgument("content policy must be a JSON object");
  std::shared_ptr<ContentPolicy> policy(new ContentPolicy());
  if (auto it = doc.find("check_replies"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean())
      return Status::InvalidArgument("content policy: check_replies must be true or false");
    policy->check_replies_ = it->get<bool>();
  }
  auto rules = doc.find("rules");
  if (rules != doc.end() && !rules->is_null()) {
    if (!rules->is_array()) return Status::InvalidArgument("content policy: rules must be a list");
    if (rules->size() > kMaxPolicyRules)
      return Status::InvalidArgument("content policy: more than " +
                                     std::to_string(kMaxPolicyRules) + " rules");
    std::set<std::string, std::less<>> ids;
    for (size_t i = 0; i < rules->size(); ++i) {
      const json& j = (*rules)[i];
      if (!j.is_object()) return RuleError(i, "", "must be an object");
      auto field = [&](const char* key, std::string* out) -> Status {
        auto f = j.find(key);
        if (f == j.end() || f->is_null()) return Status::Ok();
        if (!f->is_string()) return RuleError(i, "", std::string(key) + " must be a string");
        *out = f->get<std::string>();
        return Status::Ok();
      };
      PolicyRule r;
      std::string type = "term", action = "block";
      TOKKI_RETURN_IF_ERROR(field("id", &r.id));
      if (r.id.empty()) return RuleError(i, "", "id is required");
      if (r.id.size() > kMaxPolicyRuleIdBytes)
        return RuleError(i, "",
                         "id is longer than " + std::to_string(kMaxPolicyRuleIdBytes) + " bytes");
      const std::pair<const char*, std::string*> fields[] = {
          {"language", &r.language}, {"type", &type}, {"text", &r.text}, {"action", &action}};
      for (auto [key, out] : fields) {
        Status st = field(key, out);
        if (!st.ok()) return RuleError(i, r.id, std::string(key) + " must be a string");
      }
      if (!ids.insert(r.id).second) return RuleError(i, r.id, "duplicate id");
      r.language = AsciiLower(r.language);
      if (!r.language.empty() && !IsPrimaryTag(r.language))
        return RuleError(i, r.id, "language must be \"\" or a primary language tag such as \"ko\"");
      if (type != "term" && type != "pattern")
        return RuleError(i, r.id, "type must be \"term\" or \"pattern\"");
      r.is_pattern = type == "pattern";
      if (action != "block" && action != "review")
        return RuleError(i, r.id, "action must be \"block\" or \"review\"");
      r.action = action == "block" ? PolicyAction::kBlock : PolicyAction::kReview;
      if (!r.is_pattern) r.text = std::string(Trim(r.text));
      if (r.text.empty()) return RuleError(i, r.id, "text is empty");
      if (r.text.size() > kMaxPolicyRuleTextBytes)
        return RuleError(
            i, r.id, "text is longer than " + std::to_string(kMaxPolicyRuleTextBytes) + " bytes");
      if (r.is_pattern) TOKKI_RETURN_IF_ERROR(ValidatePattern(i, r));
      policy->rules_.push_back(std::move(r));
    }
  }

  // One matcher per language with rules of its own, and one for every other language.
  std::set<std::string> languages = {""};
  for (const auto& r : policy->rules_) languages.insert(r.language);
  if (policy->rules_.empty()) languages.clear();
  std::vector<std::shared_ptr<const re2::RE2>> folded;
  for (const auto& r : policy->rules_) {
    if (r.is_pattern) {
      folded.push_back(nullptr);
      continue;
    }
    auto re = std::make_shared<const re2::RE2>("(?i:" + re2::RE2::QuoteMeta(r.text) + ")",
                                               RuleOptions(kRuleMaxMemBytes));
    if (!re->ok()) return RuleError(folded.size(), r.id, "does not compile: " + re->error());
    folded.push_back(std::move(re));
  }
  const PolicyRule* first = policy->rules_.data();
  auto folded_of = [&](const PolicyRule* r) { return folded[r - first]; };
  for (const std::string& lang : languages) {
    std::vector<const PolicyRule*> block, review;
    for (const auto& r : policy->rules_) {
      if (!r.language.empty() && r.language != lang) continue;
      (r.action == PolicyAction::kBlock ? block : review).push_back(&r);
    }
    auto m = std::make_unique<Matcher>();
    TOKKI_RETURN_IF_ERROR(Compile(block, lang, PolicyAction::kBlock, folded_of, &m->block));
    TOKKI_RETURN_IF_ERROR(Compile(review, lang, PolicyAction::kReview, folded_of, &m->review));
    policy->max_match_bytes_ = std::max(policy->max_match_bytes_, MaxMatchBytes(*m));
    policy->matchers_.emplace(lang, std::move(m));
  }
  return std::shared_ptr<const ContentPolicy>(std::move(policy));
}

std::string ContentPolicy::ToJson() const {
  json rules = json::array();
  for (const auto& r : rules_)
    rules.push_back({{"id", r.id},
                     {"language", r.language},
                     {"type", r.is_pattern ? "pattern" : "term"},
                     {"text", r.text},
                     {"action", ActionName(r.action)}});
  return json{{"rules", std::move(rules)}, {"check_replies", check_replies_}}.dump();
}

const ContentPolicy::Matcher* ContentPolicy::MatcherFor(std::string_view language) const {
  if (matchers_.empty()) return nullptr;
  auto it = matchers_.find(PrimaryTag(language));
  if (it == matchers_.end()) it = matchers_.find("");
  return it->second.get();
}

size_t ContentPolicy::MaxMatchBytes(const Matcher& m) {
  return std::max(m.block.max_match_bytes, m.review.max_match_bytes);
}

std::optional<ContentPolicy::Found> ContentPolicy::Find(const Matcher& m, PolicyAction action,
                                                        std::string_view text, size_t start) {
  const CompiledRules& c = action == PolicyAction::kBlock ? m.block : m.review;
  if (c.re == nullptr || start > text.size()) return std::nullopt;
  std::vector<re2::StringPiece> groups(c.alt_of_group.size());
  if (!c.re->Match(text, start, text.size(), re2::RE2::UNANCHORED, groups.data(),
                   static_cast<int>(groups.size())))
    return std::nullopt;
  for (size_t g = 1; g < groups.size(); ++g) {
    if (c.alt_of_group[g] < 0 || groups[g].data() == nullptr) continue;
    const Alternative& alt = c.alts[c.alt_of_group[g]];
    std::string_view matched(groups[g].data(), groups[g].size());
    // In a term group the chosen term is the first that matches the captured text: an
    // earlier one matching the same text would have been chosen instead.
    const PolicyRule* rule = alt.rules.front();
    for (size_t i = 0; i < alt.folded.size(); ++i) {
      if (re2::RE2::FullMatch(matched, *alt.folded[i])) {
        rule = alt.rules[i];
        break;
      }
    }
    Found f;
    f.begin = static_cast<size_t>(groups[0].data() - text.data());
    f.end = f.begin + groups[0].size();
    f.match.rule_id = rule->id;
    f.match.action = action;
    f.match.excerpt = Excerpt(matched);
    return f;
  }
  return std::nullopt;  // not reached: one rule's group takes part in every match
}

std::optional<PolicyMatch> ContentPolicy::Check(std::string_view text,
                                                std::string_view language) const {
  const Matcher* m = MatcherFor(language);
  if (m == nullptr) return std::nullopt;
  for (PolicyAction a : {PolicyAction::kBlock, PolicyAction::kReview})
    if (auto f = Find(*m, a, text, 0)) return std::move(f->match);
  return std::nullopt;
}

// ---- StreamingPolicyChecker

StreamingPolicyChecker::StreamingPolicyChecker(std::shared_ptr<const ContentPolicy> policy,
                                               std::string language)
    : policy_(std::move(policy)) {
  if (policy_ != nullptr) matcher_ = policy_->MatcherFor(language);
  if (matcher_ != nullptr) holdback_ = ContentPolicy::MaxMatchBytes(*matcher_);
}

std::optional<PolicyMatch> StreamingPolicyChecker::Scan(bool final) {
  if (matcher_ == nullptr) return std::nullopt;
  for (PolicyAction a : {PolicyAction::kBlock, PolicyAction::kReview}) {
    if (a == PolicyAction::kReview && review_) break;
    auto f = ContentPolicy::Find(*matcher_, a, window_, n_context_);
    if (!f) continue;
    // A match that reaches the end of the text so far may still change with the next
    // piece ("ass" + "et"); wait, unless it is already as long as can be held back.
    bool certain = final || f->end < window_.size() || f->end - f->begin >= holdback_;
    if (!certain) continue;
    if (a == PolicyAction::kBlock) return std::move(f->match);
    review_ = std::move(f->match);
  }
  return std::nullopt;
}

std::string StreamingPolicyChecker::Release() {
  size_t keep_from = window_.size() > holdback_ ? window_.size() - holdback_ : 0;
  keep_from = SafeCut(window_, keep_from);
  if (keep_from <= n_context_) return std::string();
  std::string out = window_.substr(n_context_, keep_from - n_context_);
  // Keep one code point before the held text as context for the next scan.
  size_t context_from = keep_from - 1;
  while (context_from > 0 && keep_from - context_from < 4 && IsContinuation(window_[context_from]))
    --context_from;
  window_.erase(0, context_from);
  n_context_ = keep_from - context_from;
  return out;
}

std::variant<std::string, PolicyMatch> StreamingPolicyChecker::Feed(std::string_view piece) {
  if (stopped_) return *stopped_;
  if (finished_) return std::string();
  window_.append(piece);
  if (auto m = Scan(false)) {
    stopped_ = std::move(m);
    window_.clear();
    n_context_ = 0;
    return *stopped_;
  }
  return Release();
}

std::variant<std::string, PolicyMatch> StreamingPolicyChecker::Finish() {
  if (stopped_) return *stopped_;
  if (finished_) return std::string();
  finished_ = true;
  if (auto m = Scan(true)) {
    stopped_ = std::move(m);
    window_.clear();
    n_context_ = 0;
    return *stopped_;
  }
  std::string out = window_.substr(n_context_);
  window_.clear();
  n_context_ = 0;
  return out;
}

}  // namespace tokki::persona
