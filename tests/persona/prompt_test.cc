#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "persona/prompt.h"

#include "count_words.h"

namespace tokki::persona {
namespace {

using testing::CountWords;

store::Character Aria() {
  store::Character c;
  c.id = 42;
  c.revision = 3;
  c.name = "Aria";
  c.description = "{{char}} keeps the lighthouse. She waves at {{user}}.";
  c.personality = "dry humour";
  c.scenario = "{{user}} arrives before a storm.";
  c.mes_example =
      "<START>\n{{user}}: Lonely?\n{{char}}: The gulls talk.\n<START>\n{{user}}: Tea?\n{{char}}: "
      "Always.";
  c.post_history_instructions = "Mention the storm to {{user}}.";
  c.character_book_json = nlohmann::json{{"scan_depth", 4},
                                         {"entries",
                                          {{{"keys", {"lamp"}},
                                            {"content", "The lamp is from 1902."},
                                            {"name", "lamp"},
                                            {"insertion_order", 1}},
                                           {{"keys", {"ferry"}},
                                            {"content", "@@depth 1\nThe ferry stops in storms."},
                                            {"name", "ferry"},
                                            {"insertion_order", 2}},
                                           {{"keys", {"gull"}},
                                            {"content", "{{user}} fed the gulls."},
                                            {"name", "gulls"},
                                            {"position", "after_char"},
                                            {"insertion_order", 3}}}}}
                              .dump();
  return c;
}

PromptInput Input(const store::Character* c, std::string user) {
  PromptInput in;
  in.character = c;
  in.user_name = std::move(user);
  in.n_ctx = 4096;
  in.n_reply_tokens = 256;
  in.count_tokens = CountWords;
  in.conversation_seed = 9;
  in.turn_index = 1;
  return in;
}

const char kAriaStatic[] =
    "You are Aria. Stay in character as Aria for the whole conversation: speak in Aria's voice "
    "and keep Aria's personality, knowledge and way of talking as described below. Write only "
    "Aria's own words and actions, never the other person's. Do not break character to comment "
    "on the conversation or the instructions.\n\n"
    "Aria keeps the lighthouse. She waves at User.\n\n"
    "Aria's personality: dry humour\n\n"
    "Scenario: User arrives before a storm.\n\n"
    "Example dialogues (\"User\" stands for the person Aria is talking to):\n\n"
    "User: Lonely?\nAria: The gulls talk.\n\n"
    "User: Tea?\nAria: Always.";

TEST(Prompt, ExactLayout) {
  store::Character c = Aria();
  PromptInput in = Input(&c, "Min");
  in.user_persona = "A student from {{user}}'s hometown, Busan.";
  in.pinned_memories = {"Min likes jasmine tea.", "Min is afraid of storms."};
  in.summary = "Min came to the island in May.";
  in.history = {{"assistant", "Welcome."},
                {"user", "Is the lamp old?"},
                {"assistant", "Very."},
                {"user", "And the ferry? I saw a gull."}};
  auto p = BuildPrompt(in);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::vector<PromptMessage> want = {
      {"system", kAriaStatic, "static"},
      {"system",
       "You are talking with Min. Where the text above says \"User\", it means Min.\n\n"
       "About Min: A student from Min's hometown, Busan.",
       "persona"},
      {"system",
       "What Aria always keeps in mind about Min:\n- Min likes jasmine tea.\n- Min is afraid "
       "of storms.",
       "pinned"},
      {"system", "The story so far between Aria and Min:\nMin came to the island in May.",
       "summary"},
      {"system", "The lamp is from 1902.\n\nMin fed the gulls.", "lorebook"},
      {"assistant", "Welcome.", "history"},
      {"user", "Is the lamp old?", "history"},
      {"assistant", "Very.", "history"},
      {"system", "The ferry stops in storms.", "lorebook"},
      {"user", "And the ferry? I saw a gull.", "history"},
      {"system", "Mention the storm to Min.", "post_history"},
  };
  ASSERT_EQ(p->messages.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(p->messages[i].role, want[i].role) << i;
    EXPECT_EQ(p->messages[i].content, want[i].content) << i;
    EXPECT_EQ(p->messages[i].section, want[i].section) << i;
  }
  EXPECT_EQ(p->n_static_messages, 1u);
  EXPECT_EQ(p->n_dropped_messages, 0);
  EXPECT_EQ(p->activated_entries, (std::vector<std::string>{"lamp", "ferry", "gulls"}));
  int total = 0;
  for (const auto& m : want) total += CountWords(m.content) + kMessageOverheadTokens;
  EXPECT_EQ(p->n_prompt_tokens, total);
  EXPECT_EQ(p->prefix_key.rfind("char:42:rev:3:", 0), 0u) << p->prefix_key;
  EXPECT_EQ(p->prefix_key.size(), std::string("char:42:rev:3:").size() + 16);
}

TEST(Prompt, StaticBlockSharedAcrossUsers) {
  store::Character c = Aria();
  c.system_prompt = "{{original}} Greet {{user}} by name. Today: {{pick:sun,rain,fog,snow}}.";
  PromptInput a = Input(&c, "Min");
  a.conversation_seed = 1;
  PromptInput b = Input(&c, "Jordan");
  b.conversation_seed = 2;
  b.user_persona = "A sailor.";
  b.history = {{"user", "hi"}};
  auto pa = BuildPrompt(a);
  auto pb = BuildPrompt(b);
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(pa->messages[0].content, pb->messages[0].content);
  EXPECT_EQ(pa->prefix_key, pb->prefix_key);
  EXPECT_NE(pa->messages[0].content.find("Greet User by name."), std::string::npos);
  EXPECT_NE(pa->messages[1].content, pb->messages[1].content);
  // A new revision changes the key.
  c.revision = 4;
  auto pc = BuildPrompt(a);
  ASSERT_TRUE(pc.ok());
  EXPECT_NE(pc->prefix_key, pa->prefix_key);
  // So does an edit of the static text at the same revision.
  c.revision = 3;
  c.description += " More.";
  auto pd = BuildPrompt(a);
  ASSERT_TRUE(pd.ok());
  EXPECT_NE(pd->prefix_key, pa->prefix_key);
}

TEST(Prompt, RealPersonNoticeCannotBeRemoved) {
  store::Character c = Aria();
  c.real_person = true;
  c.system_prompt = "Just be Aria.";
  auto p = BuildPrompt(Input(&c, "Min"));
  ASSERT_TRUE(p.ok());
  const std::string& s = p->messages[0].content;
  EXPECT_EQ(s.rfind("Just be Aria.\n\nAria is a real person. You are an AI portrayal of Aria", 0),
            0u)
      << s;
  // With {{original}} the notice appears exactly once.
  c.system_prompt = "{{original}}";
  p = BuildPrompt(Input(&c, "Min"));
  ASSERT_TRUE(p.ok());
  const std::string& t = p->messages[0].content;
  size_t first = t.find("AI portrayal of Aria");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(t.find("AI portrayal of Aria", first + 1), std::string::npos);
  EXPECT_EQ(DefaultSystemPrompt(true).find("{{char}} is a real person"),
            DefaultSystemPrompt(false).size() + 2);
}

TEST(Prompt, ExamplesDroppedByNctxOnly) {
  store::Character c = Aria();
  PromptInput in = Input(&c, "Min");
  in.n_ctx = 160;
  in.n_reply_tokens = 40;
  auto small = BuildPrompt(in);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->messages[0].content.find("Example dialogues"), std::string::npos);
  // Same n_ctx, different user, reply size and history: same static block.
  PromptInput other = Input(&c, "Jordan");
  other.n_ctx = 160;
  other.n_reply_tokens = 20;
  other.history = {{"user", "hello there"}};
  auto small2 = BuildPrompt(other);
  ASSERT_TRUE(small2.ok());
  EXPECT_EQ(small2->messages[0].content, small->messages[0].content);
  EXPECT_EQ(small2->prefix_key, small->prefix_key);
  in.n_ctx = 4096;
  auto big = BuildPrompt(in);
  ASSERT_TRUE(big.ok());
  EXPECT_NE(big->messages[0].content.find("Example dialogues"), std::string::npos);
}

std::vector<PromptMessage> Conversation(int n_turns) {
  std::vector<PromptMessage> h;
  for (int i = 0; i < n_turns; ++i) {
    h.push_back({"user", "message number " + std::to_string(i) + " from the user side"});
    h.push_back({"assistant", "reply number " + std::to_string(i) + " with a few more words here"});
  }
  return h;
}

TEST(Prompt, HistoryDroppedInLargeStableSteps) {
  store::Character c = Aria();
  c.character_book_json.clear();
  c.post_history_instructions.clear();
  PromptInput in = Input(&c, "Min");
  in.n_ctx = 600;
  in.n_reply_tokens = 100;
  int last_dropped = -1, n_changes = 0;
  std::string last_first;
  for (int turns = 1; turns <= 80; ++turns) {
    in.history = Conversation(turns);
    in.history.pop_back();  // the reply being generated is not in the history
    auto p = BuildPrompt(in);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_LE(p->n_prompt_tokens, in.n_ctx - in.n_reply_tokens);
    // The latest message is always kept.
    EXPECT_EQ(p->messages.back().content, in.history.back().content);
    // Kept history is exactly the newest messages.
    size_t n_kept = in.history.size() - static_cast<size_t>(p->n_dropped_messages);
    EXPECT_EQ(p->messages.size(), 2 + n_kept);
    if (p->n_dropped_messages != last_dropped) {
      if (last_dropped >= 0) {
        ++n_changes;
        // Each cut drops many messages at once (a quarter of the budget or more).
        EXPECT_GE(p->n_dropped_messages - last_dropped, 6);
      }
      last_dropped = p->n_dropped_messages;
    }
  }
  EXPECT_GT(last_dropped, 0);
  // 79 turns and only a handful of prefix changes.
  EXPECT_GE(n_changes, 2);
  EXPECT_LE(n_changes, 20);
}

TEST(Prompt, RecallFillsItsBudgetBeforeTheLastUserMessage) {
  store::Character c = Aria();
  c.character_book_json.clear();
  c.post_history_instructions.clear();
  PromptInput in = Input(&c, "Min");
  in.n_ctx = 600;
  in.n_reply_tokens = 100;
  in.history = Conversation(40);
  in.history.pop_back();
  for (size_t i = 0; i < in.history.size(); ++i) in.history[i].source_id = static_cast<Id>(100 + i);
  std::vector<Id> seen_window;
  int calls = 0;
  in.recall = [&](std::span<const PromptMessage> window) {
    ++calls;
    seen_window.clear();
    for (const auto& m : window) seen_window.push_back(m.source_id);
    std::vector<RecalledPassage> out;
    // Best first; dates out of order; the third is too long for what is left.
    out.push_back({7, 1, 3 * 86400000LL, "user", "my dog is called Bori"});
    out.push_back({5, 1, 1 * 86400000LL, "assistant", "Bori is a fine name"});
    out.push_back({9, 1, 2 * 86400000LL, "user", std::string(400, 'x') + " long words"});
    for (int i = 0; i < 20; ++i)
      out.push_back({Id(20 + i), 1, 4 * 86400000LL, "user", "filler passage number " +
                                                                 std::to_string(i)});
    return out;
  };
  in.recall_max_tokens = 60;
  auto p = BuildPrompt(in);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(p->recall_budget, 60);
  EXPECT_LE(p->n_prompt_tokens, in.n_ctx - in.n_reply_tokens);
  // The window it was told about is exactly the kept history.
  std::vector<Id> kept;
  for (const auto& m : p->messages)
    if (m.section == "history") kept.push_back(m.source_id);
  EXPECT_EQ(seen_window, kept);
  // Oldest first, within budget, skipping what does not fit.
  ASSERT_EQ(p->recalled.size(), 2u);
  EXPECT_EQ(p->recalled[0].message_id, 5);
  EXPECT_EQ(p->recalled[1].message_id, 7);
  for (const auto& r : p->recalled) EXPECT_NE(r.message_id, 9);
  // Placed just after the last user message, with dates and speakers.
  ASSERT_GE(p->messages.size(), 3u);
  const PromptMessage& block = p->messages.back();
  EXPECT_EQ(block.section, "recalled");
  EXPECT_EQ(block.content.rfind("Things Aria remembers from earlier with Min (with dates):\n"
                                "- [1970-01-02] Aria: Bori is a fine name\n"
                                "- [1970-01-04] Min: my dog is called Bori",
                                0),
            0u)
      << block.content;
  EXPECT_EQ(p->messages[p->messages.size() - 2].content, in.history.back().content);

  // Everything fits: no recall unless the relationship has other messages.
  in.history = Conversation(2);
  calls = 0;
  ASSERT_TRUE(BuildPrompt(in).ok());
  EXPECT_EQ(calls, 0);
  in.recall_always = true;
  in.last_is_draft = true;
  auto q = BuildPrompt(in);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(q->messages.back().section, "draft");
}

TEST(Prompt, Errors) {
  store::Character c = Aria();
  PromptInput in = Input(&c, "Min");
  in.n_ctx = 100;
  in.n_reply_tokens = 100;
  EXPECT_EQ(BuildPrompt(in).status().code(), Status::Code::kInvalidArgument);
  in.n_ctx = 60;
  in.n_reply_tokens = 10;
  EXPECT_EQ(BuildPrompt(in).status().code(), Status::Code::kTooLarge);
  in = Input(&c, "Min");
  in.history = {{"user", std::string(5000, 'x').append(" ") + std::string(4000, 'y')}};
  in.count_tokens = [](std::string_view s) { return static_cast<int>(s.size()); };
  EXPECT_EQ(BuildPrompt(in).status().code(), Status::Code::kTooLarge);
  in.count_tokens = nullptr;
  EXPECT_EQ(BuildPrompt(in).status().code(), Status::Code::kInvalidArgument);
  in.character = nullptr;
  EXPECT_EQ(BuildPrompt(in).status().code(), Status::Code::kInvalidArgument);
}

TEST(Prompt, EmptyUserNameUsesNeutralName) {
  store::Character c = Aria();
  auto p = BuildPrompt(Input(&c, ""));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->messages[1].content, "You are talking with User.");
}

}  // namespace
}  // namespace tokki::persona
