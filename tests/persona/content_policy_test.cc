#include "persona/content_policy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "core/text.h"

namespace tokki::persona {
namespace {

using nlohmann::json;

json Rule(std::string id, std::string text, std::string language = "", std::string type = "term",
          std::string action = "block") {
  return {{"id", id}, {"language", language}, {"type", type}, {"text", text}, {"action", action}};
}

// (A vector, not a json: `{Rule(...)}` as a json parameter would be the rule itself.)
std::shared_ptr<const ContentPolicy> Policy(const std::vector<json>& rules) {
  auto p = ContentPolicy::FromJson(json{{"rules", rules}}.dump());
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : nullptr;
}

// The id of the rule that hits `text`, or "" when none does.
std::string Hit(const ContentPolicy& p, std::string_view text, std::string_view language = "en") {
  auto m = p.Check(text, language);
  return m ? m->rule_id : "";
}

Status ParseError(const json& doc) {
  auto p = ContentPolicy::FromJson(doc.dump());
  return p.ok() ? Status::Ok() : p.status();
}

TEST(ContentPolicy, LatinTermsMatchOnWordBoundariesOnly) {
  auto p = Policy({Rule("r1", "ass")});
  for (const char* miss :
       {"first class", "assess the damage", "a passage", "grass", "ass2", "ass_"})
    EXPECT_EQ(Hit(*p, miss), "") << miss;
  for (const char* hit : {"ass!", "you ass", "bad-ass", "(ass)", "ass", "\"ass\"", "ass\n"})
    EXPECT_EQ(Hit(*p, hit), "r1") << hit;
  auto longer = Policy({Rule("short", "ass"), Rule("long", "asshole")});
  EXPECT_EQ(Hit(*longer, "you asshole!"), "long");  // "ass" alone is not on a boundary there
  EXPECT_EQ(Hit(*longer, "ass hole"), "short");
  auto m = p->Check("what an ass!", "en");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->excerpt, "ass");  // boundary characters are not part of the excerpt
  EXPECT_EQ(m->action, PolicyAction::kBlock);
}

TEST(ContentPolicy, LatinTermNextToCjkTextIsAWord) {
  auto p = Policy({Rule("r1", "ass")});
  EXPECT_EQ(Hit(*p, "这是ass吗"), "r1");
  EXPECT_EQ(Hit(*p, "너ass야"), "r1");
  EXPECT_EQ(Hit(*p, "éass"), "");  // é is a Latin letter: still inside a word
}

TEST(ContentPolicy, TermsAreCaseInsensitiveIncludingNonAscii) {
  auto p = Policy({Rule("dragon", "Dragon"), Rule("eclair", "éclair")});
  EXPECT_EQ(Hit(*p, "A DRAGON appears"), "dragon");
  EXPECT_EQ(Hit(*p, "a dRaGoN"), "dragon");
  EXPECT_EQ(Hit(*p, "un ÉCLAIR au chocolat"), "eclair");
  // Case folding can change the byte length: KELVIN SIGN (3 bytes) folds to "k".
  auto kick = Policy({Rule("kick", "kick")});
  EXPECT_EQ(Hit(*kick, "a \u212Aick!"), "kick");
  EXPECT_GE(kick->max_match_bytes(), std::string("\u212Aick").size() + 2);
  auto m = p->Check("THE DRAGON", "en");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->excerpt, "DRAGON");  // the text as written, not the rule
}

TEST(ContentPolicy, PunctuationEdgesNeedNoBoundary) {
  auto p = Policy({Rule("r1", "#tag"), Rule("r2", "c++")});
  EXPECT_EQ(Hit(*p, "see x#tag"), "r1");
  EXPECT_EQ(Hit(*p, "c++ rocks"), "r2");
  EXPECT_EQ(Hit(*p, "abc++"), "");  // the leading 'c' is a Latin letter: needs a boundary
}

TEST(ContentPolicy, KoreanAndChineseTermsMatchInsideLongerText) {
  auto p = Policy({Rule("ko", "바보", "ko"), Rule("zh", "傻瓜", "zh"), Rule("ja", "ばか", "ja")});
  EXPECT_EQ(Hit(*p, "너는정말바보야 알겠지", "ko"), "ko");
  EXPECT_EQ(Hit(*p, "你是个傻瓜吗？", "zh"), "zh");
  EXPECT_EQ(Hit(*p, "あなたはばかです", "ja"), "ja");
  auto m = p->Check("너는정말바보야", "ko");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->excerpt, "바보");
  EXPECT_EQ(Hit(*p, "바 보", "ko"), "");
}

TEST(ContentPolicy, RulesApplyOnlyToTheirLanguage) {
  auto p = Policy({Rule("ko-only", "나쁜말", "ko"), Rule("en-only", "badword", "en"),
                   Rule("everywhere", "spam")});
  EXPECT_EQ(Hit(*p, "이건 나쁜말", "ko"), "ko-only");
  EXPECT_EQ(Hit(*p, "이건 나쁜말", "ko-KR"), "ko-only");  // only the primary subtag counts
  EXPECT_EQ(Hit(*p, "이건 나쁜말", "KO"), "ko-only");
  EXPECT_EQ(Hit(*p, "이건 나쁜말", "en"), "");
  EXPECT_EQ(Hit(*p, "이건 나쁜말", "ja"), "");
  EXPECT_EQ(Hit(*p, "a badword", "ko"), "");
  EXPECT_EQ(Hit(*p, "a badword", "en-US"), "en-only");
  for (const char* lang : {"ko", "en", "ja", ""})
    EXPECT_EQ(Hit(*p, "buy spam", lang), "everywhere");
}

TEST(ContentPolicy, BlockBeatsReviewWhenBothMatch) {
  auto p = Policy({Rule("soft", "meh", "", "term", "review"), Rule("hard", "nope")});
  auto m = p->Check("meh, and then nope", "en");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rule_id, "hard");
  EXPECT_EQ(m->action, PolicyAction::kBlock);
  m = p->Check("only meh here", "en");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rule_id, "soft");
  EXPECT_EQ(m->action, PolicyAction::kReview);
}

TEST(ContentPolicy, FirstMatchIsTheLeftmost) {
  auto p = Policy({Rule("a", "alpha"), Rule("b", "beta"), Rule("p", "g[a@]mma", "", "pattern")});
  EXPECT_EQ(Hit(*p, "beta then alpha"), "b");
  EXPECT_EQ(Hit(*p, "g@mma then alpha"), "p");
}

TEST(ContentPolicy, PatternsMatchAsWrittenAndTheirGroupsDoNotConfuseTheRuleId) {
  auto p = Policy({Rule("groups", "(foo)(bar)?(baz)", "", "pattern"),
                   Rule("after", R"(b[a4]d\s*w[o0]rd)", "", "pattern"),
                   Rule("ci", "(?i)shout", "", "pattern"), Rule("term", "tail")});
  EXPECT_EQ(Hit(*p, "xx foobaz yy"), "groups");
  EXPECT_EQ(Hit(*p, "a b4d   w0rd"), "after");
  EXPECT_EQ(Hit(*p, "a BAD WORD"), "");  // patterns are case-sensitive unless they say (?i)
  EXPECT_EQ(Hit(*p, "SHOUT"), "ci");
  EXPECT_EQ(Hit(*p, "the tail"), "term");
  auto m = p->Check("a b4d   w0rd", "en");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->excerpt, "b4d   w0rd");
}

TEST(ContentPolicy, ExcerptIsShortAndValidUtf8) {
  auto p = Policy({Rule("run", "가+", "", "pattern")});
  std::string text;
  for (int i = 0; i < 100; ++i) text += "가";
  auto m = p->Check(text, "ko");
  ASSERT_TRUE(m);
  EXPECT_LE(m->excerpt.size(), kMaxPolicyExcerptBytes);
  EXPECT_EQ(m->excerpt.size(), 63u);  // 21 whole code points
  EXPECT_TRUE(IsValidUtf8(m->excerpt));
}

TEST(ContentPolicy, EmptyPolicyMatchesNothing) {
  auto p = ContentPolicy::FromJson("{}");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE((*p)->empty());
  EXPECT_FALSE((*p)->check_replies());
  EXPECT_EQ((*p)->max_match_bytes(), 0u);
  EXPECT_FALSE((*p)->Check("anything at all", "en"));
}

TEST(ContentPolicy, MaxMatchBytesCoversTermsAndThePatternWindow) {
  EXPECT_EQ(Policy({Rule("t", "abcd")})->max_match_bytes(), 3 * 4 + 8u);
  EXPECT_EQ(Policy({Rule("t", "abcd"), Rule("p", "x+y", "", "pattern")})->max_match_bytes(),
            kPolicyPatternWindowBytes);
  EXPECT_EQ(Policy({Rule("t", std::string(100, 'a'))})->max_match_bytes(), 308u);
}

TEST(ContentPolicy, ErrorsAreClearAndNameTheRule) {
  auto expect_error = [](const json& doc, std::string_view part) {
    Status st = ParseError(doc);
    EXPECT_TRUE(st.IsInvalidArgument()) << doc.dump() << " → " << st.ToString();
    EXPECT_NE(st.message().find(part), std::string::npos) << st.message();
  };
  EXPECT_TRUE(ContentPolicy::FromJson("{\"rules\": [").status().IsInvalidArgument());
  EXPECT_TRUE(ContentPolicy::FromJson("[]").status().IsInvalidArgument());
  expect_error({{"rules", {Rule("broken", "a(b", "", "pattern")}}}, "'broken': bad pattern");
  expect_error({{"rules", {Rule("twice", "a"), Rule("twice", "b")}}}, "'twice': duplicate id");
  expect_error({{"rules", {Rule("blank", "   ")}}}, "'blank': text is empty");
  expect_error({{"rules", {Rule("long", std::string(1001, 'x'))}}}, "'long': text is longer");
  expect_error({{"rules", {Rule("kind", "x", "", "word")}}}, "'kind': type must be");
  expect_error({{"rules", {Rule("act", "x", "", "term", "delete")}}}, "'act': action must be");
  expect_error({{"rules", {Rule("lang", "x", "korean")}}}, "'lang': language must be");
  expect_error({{"rules", {Rule("empty-match", "a*", "", "pattern")}}}, "'empty-match'");
  expect_error({{"rules", {Rule("named", "(?P<x>a)", "", "pattern")}}}, "'named': named groups");
  expect_error({{"rules", {{{"text", "x"}}}}}, "rule 0: id is required");
  expect_error({{"rules", {{{"id", 5}, {"text", "x"}}}}}, "rule 0: id must be a string");
  expect_error({{"rules", {{{"id", "num"}, {"text", 5}}}}}, "'num': text must be a string");
  expect_error({{"rules", "nope"}}, "rules must be a list");
  expect_error({{"check_replies", "yes"}}, "check_replies");
  json many = json::array();
  for (int i = 0; i < 2001; ++i)
    many.push_back(Rule("r" + std::to_string(i), "w" + std::to_string(i)));
  expect_error({{"rules", many}}, "more than 2000 rules");
  // The limits themselves are fine.
  many.erase(many.end() - 2, many.end());
  many.push_back(Rule("long", std::string(1000, 'x')));
  EXPECT_TRUE(ParseError({{"rules", many}}).ok()) << ParseError({{"rules", many}}).ToString();
}

TEST(ContentPolicy, TwoThousandRulesCompileAndCheckInOnePass) {
  json many = json::array();
  for (int i = 0; i < 1995; ++i)
    many.push_back(Rule("r" + std::to_string(i), "word" + std::to_string(i)));
  for (int i = 0; i < 5; ++i)
    many.push_back(
        Rule("p" + std::to_string(i), "pat" + std::to_string(i) + "[0-9]+", "", "pattern"));
  auto p = Policy(many.get<std::vector<json>>());
  ASSERT_TRUE(p);
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "some ordinary words here ";
  EXPECT_FALSE(p->Check(text, "en"));
  EXPECT_EQ(Hit(*p, text + "word1994"), "r1994");
  EXPECT_EQ(Hit(*p, text + "pat4 pat3123"), "p3");
}

TEST(ContentPolicy, JsonRoundTrip) {
  json doc = {{"rules",
               {Rule("a", "Dragon", "en"), Rule("b", "바보", "ko", "term", "review"),
                Rule("c", "(?i)x+y", "", "pattern")}},
              {"check_replies", true}};
  auto p = ContentPolicy::FromJson(doc.dump());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE((*p)->check_replies());
  ASSERT_EQ((*p)->rules().size(), 3u);
  EXPECT_EQ((*p)->rules()[1].action, PolicyAction::kReview);
  EXPECT_TRUE((*p)->rules()[2].is_pattern);
  EXPECT_EQ(json::parse((*p)->ToJson()), doc);
  auto again = ContentPolicy::FromJson((*p)->ToJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->ToJson(), (*p)->ToJson());

  // Defaults are written out.
  auto d = ContentPolicy::FromJson(R"({"rules": [{"id": "x", "text": " spam "}]})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(json::parse((*d)->ToJson()),
            (json{{"rules", {Rule("x", "spam")}}, {"check_replies", false}}));
}

// ---- streaming

struct StreamResult {
  std::string released;
  std::optional<PolicyMatch> match;
  size_t released_before_match = 0;
  size_t max_buffered = 0;
};

StreamResult Stream(std::shared_ptr<const ContentPolicy> policy,
                    const std::vector<std::string>& pieces, std::string language = "en") {
  StreamingPolicyChecker checker(std::move(policy), std::move(language));
  StreamResult r;
  auto take = [&](std::variant<std::string, PolicyMatch> v) {
    if (auto* m = std::get_if<PolicyMatch>(&v)) {
      if (!r.match) r.released_before_match = r.released.size();
      r.match = *m;
      return false;
    }
    const std::string& s = std::get<std::string>(v);
    EXPECT_TRUE(IsValidUtf8(s)) << "released text splits a code point";
    r.released += s;
    return true;
  };
  for (const auto& piece : pieces) {
    if (!take(checker.Feed(piece))) return r;
    r.max_buffered = std::max(r.max_buffered, checker.buffered_bytes());
  }
  take(checker.Finish());
  return r;
}

std::vector<std::string> Split(std::string_view text, std::mt19937& rng, size_t max_piece) {
  std::vector<std::string> pieces;
  std::uniform_int_distribution<size_t> len(1, max_piece);
  while (!text.empty()) {
    size_t n = std::min(len(rng), text.size());
    pieces.emplace_back(text.substr(0, n));
    text.remove_prefix(n);
  }
  return pieces;
}

std::string Filler(size_t n_bytes) {
  std::string s;
  const char* words[] = {"the ", "quiet ", "harbor ", "lantern ", "밤하늘 ", "별빛이 ", "classic "};
  for (size_t i = 0; s.size() < n_bytes; ++i) s += words[(i * 7 + 3) % 7];
  return s;
}

TEST(StreamingPolicyChecker, TermSplitAcrossThreePiecesIsCaughtBeforeAnyOfItIsReleased) {
  auto p = Policy({Rule("f", "forbidden")});
  std::string prefix = Filler(300);
  auto r = Stream(p, {prefix + "for", "bid", "den words", " and more text"});
  ASSERT_TRUE(r.match);
  EXPECT_EQ(r.match->rule_id, "f");
  EXPECT_EQ(r.match->excerpt, "forbidden");
  EXPECT_GT(r.released.size(), 0u);             // text before the term did flow
  EXPECT_LE(r.released.size(), prefix.size());  // none of the term's bytes did
  EXPECT_EQ(r.released, prefix.substr(0, r.released.size()));
}

TEST(StreamingPolicyChecker, KoreanTermSplitInsideACodePointIsCaught) {
  auto p = Policy({Rule("ko", "바보", "ko")});
  std::string text = Filler(200) + "너바보야";
  size_t at = text.find("바보");
  // Cut through the middle of 바 and of 보.
  auto r = Stream(p, {text.substr(0, at + 1), text.substr(at + 1, 3), text.substr(at + 4)}, "ko");
  ASSERT_TRUE(r.match);
  EXPECT_EQ(r.match->excerpt, "바보");
  EXPECT_LE(r.released.size(), at);
}

TEST(StreamingPolicyChecker, MatchAtTheEndWaitsForTheNextPiece) {
  auto p = Policy({Rule("a", "ass")});
  std::string prefix = Filler(100) + "an ";
  auto asset = Stream(p, {prefix + "ass", "et is fine"});
  EXPECT_FALSE(asset.match) << asset.match->excerpt;
  EXPECT_EQ(asset.released, prefix + "asset is fine");

  auto hit = Stream(p, {prefix + "ass", "!"});
  ASSERT_TRUE(hit.match);
  EXPECT_LE(hit.released.size(), prefix.size());

  auto at_end = Stream(p, {prefix + "ass"});  // Finish: the end of the text is a boundary
  EXPECT_TRUE(at_end.match);
}

TEST(StreamingPolicyChecker, RandomSplitsNeverReleaseAnyByteOfAMatch) {
  auto p = Policy(
      {Rule("t", "forbidden"), Rule("k", "금지어"), Rule("pat", "x{3}[0-9]{2}", "", "pattern")});
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::string target = round % 3 == 0 ? "forbidden" : round % 3 == 1 ? "금지어" : "xxx42";
    std::string prefix = Filler(rng() % 700);
    std::string text = prefix + target + " " + Filler(rng() % 300);
    auto r = Stream(p, Split(text, rng, 1 + rng() % 40));
    ASSERT_TRUE(r.match) << "round " << round;
    EXPECT_EQ(r.match->excerpt, target);
    EXPECT_LE(r.released_before_match, prefix.size()) << "round " << round;
    EXPECT_EQ(r.released, text.substr(0, r.released.size()));
  }
}

TEST(StreamingPolicyChecker, NoFalseMatchesAtPieceOrWindowEdges) {
  // "lass" inside "classclass…" and "^hello" after the start never match, however the
  // text is cut and however much of it has been released.
  auto p = Policy({Rule("t", "lass"), Rule("caret", "^hello", "", "pattern")});
  std::string text;
  for (int i = 0; i < 200; ++i) text += i % 10 == 5 ? "hello" : "class";
  std::mt19937 rng(11);
  for (int round = 0; round < 100; ++round) {
    auto r = Stream(p, Split(text, rng, 1 + rng() % 30));
    EXPECT_FALSE(r.match) << r.match->rule_id << " round " << round;
    EXPECT_EQ(r.released, text);
  }
  EXPECT_TRUE(Stream(p, {"hel", "lo there"}).match);  // at the real start it does
}

TEST(StreamingPolicyChecker, LongStreamsKeepBoundedMemory) {
  auto p = Policy({Rule("t", "forbidden"), Rule("pat", "x{3}[0-9]{2}", "", "pattern")});
  std::string text = Filler(1 << 20);
  std::mt19937 rng(3);
  auto pieces = Split(text, rng, 16);
  auto r = Stream(p, pieces);
  EXPECT_FALSE(r.match);
  EXPECT_EQ(r.released, text);
  // Held-back window + one code point of context + at most one piece.
  EXPECT_LE(r.max_buffered, p->max_match_bytes() + 4 + 16);
}

TEST(StreamingPolicyChecker, ReleasedTextKeepsUtf8Boundaries) {
  std::string text = Filler(2000) + "끝😀";
  for (auto policy : {Policy({Rule("t", "forbidden")}), std::shared_ptr<const ContentPolicy>()}) {
    std::vector<std::string> bytes;
    for (char c : text) bytes.emplace_back(1, c);  // every code point split
    auto r = Stream(policy, bytes);  // Stream() checks each released piece is valid UTF-8
    EXPECT_FALSE(r.match);
    EXPECT_EQ(r.released, text);
  }
}

TEST(StreamingPolicyChecker, FinishFlushesEverythingWhenNothingMatches) {
  auto p = Policy({Rule("t", "forbidden")});
  StreamingPolicyChecker checker(p, "en");
  std::string released;
  released += std::get<std::string>(checker.Feed("short "));
  released += std::get<std::string>(checker.Feed("reply"));
  EXPECT_EQ(released, "");  // all of it is within the holdback
  EXPECT_EQ(std::get<std::string>(checker.Finish()), "short reply");
  EXPECT_EQ(checker.buffered_bytes(), 0u);
}

TEST(StreamingPolicyChecker, ReviewMatchesAreNotedAndDoNotStopTheReply) {
  auto p = Policy({Rule("soft", "meh", "", "term", "review"), Rule("hard", "nope")});
  std::string text = Filler(100) + "meh " + Filler(400);
  std::mt19937 rng(5);
  auto pieces = Split(text, rng, 10);
  StreamingPolicyChecker checker(p, "en");
  std::string released;
  for (const auto& piece : pieces) released += std::get<std::string>(checker.Feed(piece));
  released += std::get<std::string>(checker.Finish());
  EXPECT_EQ(released, text);
  ASSERT_TRUE(checker.review_match());
  EXPECT_EQ(checker.review_match()->rule_id, "soft");
}

TEST(StreamingPolicyChecker, AfterABlockMatchNothingMoreIsReleased) {
  auto p = Policy({Rule("hard", "nope")});
  StreamingPolicyChecker checker(p, "en");
  auto v = checker.Feed("well nope, ");
  ASSERT_TRUE(std::holds_alternative<PolicyMatch>(v));
  auto again = checker.Feed(Filler(1000));
  ASSERT_TRUE(std::holds_alternative<PolicyMatch>(again));
  EXPECT_EQ(std::get<PolicyMatch>(again).rule_id, "hard");
  EXPECT_TRUE(std::holds_alternative<PolicyMatch>(checker.Finish()));
}

TEST(StreamingPolicyChecker, OnlyTheReplyLanguageRulesApply) {
  auto p = Policy({Rule("ko", "바보", "ko")});
  std::string text = Filler(50) + "바보";
  EXPECT_TRUE(Stream(p, {text}, "ko").match);
  auto r = Stream(p, {text}, "en");
  EXPECT_FALSE(r.match);
  EXPECT_EQ(r.released, text);
}

}  // namespace
}  // namespace tokki::persona
