// tokki/persona/content_policy.h — operator-defined content rules for public character
// text (checked on publish) and, optionally, for generated replies while they stream.
//
// A policy is a list of rules, each a literal term or an RE2 pattern, scoped to one
// language (BCP-47 primary tag, e.g. "ko") or to every language (""), with an action:
// kBlock (refuse / stop) or kReview (let through, flag for a moderator).
//
//   - Terms match case-insensitively (Unicode simple case folding, so "ASS" and "Ass" hit
//     "ass", "É" hits "é"). An edge of a term that is a letter, digit or '_' of a
//     space-separated script (Latin, Cyrillic, Greek, ...) must sit on a word boundary:
//     "ass" hits "ass!" and "bad-ass" but not "class" or "assess". Edges in scripts written
//     without spaces (Han, Hangul, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) match
//     anywhere, so "바보" hits "너바보야". Edges that are punctuation need no boundary.
//   - Patterns are RE2 syntax, matched as written (use (?i) for case-insensitive). A
//     pattern that can match the empty string, or that has named groups, is refused.
//   - Check() reports the first (leftmost) match of a kBlock rule if any kBlock rule
//     matches; otherwise the first kReview match. Which rule is reported when several
//     match at the same position is unspecified.
//
// Cost: FromJson compiles, per language present in the rules, one RE2 for its kBlock
// rules and one for its kReview rules (each with the language-agnostic rules included), so
// a Check is at most two linear-time passes over the text whatever the number of rules.
//
// Limits: at most 2000 rules; a rule's text at most 1000 bytes; an id at most 128 bytes.
//
// Thread safety: a ContentPolicy is immutable after FromJson and may be shared by threads
// (hold it by shared_ptr; swap in a new one to change the rules). A
// StreamingPolicyChecker belongs to one reply and is not thread-safe.
//
// Start with ContentPolicy::FromJson, then Check (whole text) or StreamingPolicyChecker
// (a reply arriving in pieces).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace tokki::persona {

enum class PolicyAction { kBlock, kReview };

struct PolicyRule {
  std::string id;           // the operator's name for the rule; unique within a policy
  std::string language;     // "" = every language; else a lower-case primary tag ("ko")
  bool is_pattern = false;  // false: `text` is a literal term; true: an RE2 pattern
  std::string text;
  PolicyAction action = PolicyAction::kBlock;
};

struct PolicyMatch {
  std::string rule_id;
  PolicyAction action = PolicyAction::kBlock;
  std::string excerpt;  // the matched text (for terms without the boundary characters),
                        // at most kMaxPolicyExcerptBytes, valid UTF-8
};

inline constexpr size_t kMaxPolicyRules = 2000;
inline constexpr size_t kMaxPolicyRuleTextBytes = 1000;
inline constexpr size_t kMaxPolicyRuleIdBytes = 128;
inline constexpr size_t kMaxPolicyExcerptBytes = 64;
// How far back a pattern match is guaranteed to be caught across streamed pieces: a
// pattern match longer than this may be missed by StreamingPolicyChecker (never by Check).
inline constexpr size_t kPolicyPatternWindowBytes = 256;

class ContentPolicy {
 public:
  // Parses
  //   {"rules": [{"id": "...", "language": "ko", "type": "term" | "pattern",
  //               "text": "...", "action": "block" | "review"}, ...],
  //    "check_replies": false}
  // "language" defaults to "", "type" to "term", "action" to "block"; "rules" and
  // "check_replies" may be left out. Errors are InvalidArgument naming the rule: bad
  // regex, duplicate or empty id, empty text, text over 1000 bytes, unknown type/action,
  // bad language, more than 2000 rules.
  static Result<std::shared_ptr<const ContentPolicy>> FromJson(std::string_view json);

  // The same document, normalised (every key written); FromJson(ToJson()) gives an equal
  // policy.
  std::string ToJson() const;

  bool empty() const { return rules_.empty(); }
  bool check_replies() const { return check_replies_; }
  const std::vector<PolicyRule>& rules() const { return rules_; }

  // The first match in `text` among the rules of `language` (a BCP-47 tag: only its
  // primary subtag counts, case-insensitively, so "ko-KR" means "ko") and the
  // language-agnostic rules. kBlock beats kReview when both match.
  std::optional<PolicyMatch> Check(std::string_view text, std::string_view language) const;

  // Upper bound, in bytes, of a match the streaming checker must be able to see whole:
  // 3 × the longest term + 8 (case folding can turn one byte into three, e.g. "k" and
  // KELVIN SIGN, plus a boundary character on each side), and kPolicyPatternWindowBytes
  // when there are patterns. 0 for an empty policy.
  size_t max_match_bytes() const { return max_match_bytes_; }

  ~ContentPolicy();
  ContentPolicy(const ContentPolicy&) = delete;
  ContentPolicy& operator=(const ContentPolicy&) = delete;

 private:
  friend class StreamingPolicyChecker;
  struct Matcher;  // the compiled rules for one language (content_policy.cc)
  struct Found {
    PolicyMatch match;
    size_t begin = 0;  // the whole match in the searched text, boundaries included
    size_t end = 0;
  };

  ContentPolicy() = default;
  // The matcher for `language` (the language-agnostic one when it has no rules of its
  // own); null for an empty policy.
  const Matcher* MatcherFor(std::string_view language) const;
  // The first match of `action`'s rules in `text`, starting at `start` (the bytes before
  // `start` are context only: a match cannot begin there and "^" cannot match).
  static std::optional<Found> Find(const Matcher& m, PolicyAction action, std::string_view text,
                                   size_t start);
  static size_t MaxMatchBytes(const Matcher& m);

  std::vector<PolicyRule> rules_;
  bool check_replies_ = false;
  size_t max_match_bytes_ = 0;
  std::map<std::string, std::unique_ptr<Matcher>, std::less<>> matchers_;  // "" = agnostic
};

// Checks a reply that arrives in pieces. Feed() returns the text that is now safe to
// pass on, or the kBlock match that stops the reply; it catches a match spread over
// several pieces. Guarantees:
//   - the released text never contains a byte of a match (of at most max_match_bytes)
//     that a later piece completes: the last max_match_bytes of text are held back until
//     more arrives or Finish() is called;
//   - a match that touches the end of the text so far is only reported once it cannot
//     change ("ass" followed later by "et" is "asset", not a match) or at Finish();
//   - released text is cut on UTF-8 boundaries (a code point split across pieces is held
//     until it is whole);
//   - memory is bounded: about max_match_bytes plus the latest piece.
// kReview matches do not stop the reply; the first one is kept in review_match() for the
// caller to flag. After a kBlock match, Feed and Finish keep returning that match and
// release nothing more.
class StreamingPolicyChecker {
 public:
  // `policy` may be null (nothing is checked; text is still cut on UTF-8 boundaries).
  StreamingPolicyChecker(std::shared_ptr<const ContentPolicy> policy, std::string language);

  std::variant<std::string, PolicyMatch> Feed(std::string_view piece);
  // Checks and releases the held-back tail. REQUIRES: called once, after the last Feed.
  std::variant<std::string, PolicyMatch> Finish();

  // The first kReview match seen so far.
  const std::optional<PolicyMatch>& review_match() const { return review_; }
  // Bytes held in memory now (held-back text plus a few bytes of context).
  size_t buffered_bytes() const { return window_.size(); }
  size_t holdback_bytes() const { return holdback_; }

 private:
  // Scans the window; returns a kBlock match that is certain. `final`: no more text.
  std::optional<PolicyMatch> Scan(bool final);
  std::string Release();

  std::shared_ptr<const ContentPolicy> policy_;
  const ContentPolicy::Matcher* matcher_ = nullptr;  // null: nothing to check
  size_t holdback_ = 0;
  std::string window_;  // [0, n_context_) already released (context); the rest held back
  size_t n_context_ = 0;
  std::optional<PolicyMatch> stopped_;
  std::optional<PolicyMatch> review_;
  bool finished_ = false;
};

}  // namespace tokki::persona
