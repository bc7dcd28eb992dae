// MemoryService with the store and a fake engine: isolation, limits, forget, recall
// ranking, summaries, and what reaches the prompt.
#include "chat/memory_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <thread>

#include "chat/chat_service.h"
#include "chat/persona_prompt.h"
#include "core/terms.h"
#include "support/fake_engine.h"

namespace tokki::chat {
namespace {

// The fake engine's replies, with embeddings by "concept": words of one group share a
// dimension (so a paraphrase is near), other words count for nothing.
class ConceptEngine final : public engine::Engine {
 public:
  Result<std::shared_ptr<engine::Generation>> Submit(engine::GenerateRequest r,
                                                     engine::GenerateCallbacks cb) override {
    return fake_.Submit(std::move(r), std::move(cb));
  }
  int CountTokens(std::string_view t) const override { return fake_.CountTokens(t); }
  engine::ModelInfo Info() const override {
    engine::ModelInfo i = fake_.Info();
    i.embedding.available = true;
    i.embedding.model = "concepts";
    i.embedding.n_dim = 4;
    return i;
  }
  engine::EngineStats Stats() const override { return fake_.Stats(); }
  Result<engine::Embeddings> Embed(const std::vector<std::string>& texts) override {
    ++embed_calls;
    engine::Embeddings out;
    for (const auto& t : texts) {
      std::vector<float> v = {0, 0, 0, 0.1f};
      std::string word;
      auto add = [&] {
        for (auto* w : {"dog", "pup", "puppy", "bori"})
          if (word == w) v[0] += 1;
        for (auto* w : {"job", "work", "office"})
          if (word == w) v[1] += 1;
        word.clear();
      };
      for (char c : t) {
        if (std::isalpha(static_cast<unsigned char>(c)))
          word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        else
          add();
      }
      add();
      float n = 0;
      for (float x : v) n += x * x;
      for (float& x : v) x /= std::sqrt(n);
      out.push_back(v);
    }
    return out;
  }
  std::atomic<int> embed_calls{0};

 private:
  testing::FakeEngine fake_{1};
};

class MemoryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tokki-memory-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::move(store::OpenSqliteStore((dir_ / "t.db").string())).value();
    engine_ = std::make_unique<testing::FakeEngine>(1);
    Start(MemoryOptions{}, 4096);
    store::User u;
    u.username = "ann";
    u.password_hash = "x";
    ann_ = *store_->CreateUser(u);
    u.username = "ben";
    ben_ = *store_->CreateUser(u);
    store::Character c;
    c.name = "Aria";
    c.visibility = store::Visibility::kPublic;
    c.first_mes = "Hello, {{user}}.";
    aria_ = *store_->CreateCharacter(c);
  }
  void Start(MemoryOptions options, int n_ctx) {
    if (chat_) chat_->Shutdown();
    chat_.reset();
    memory_.reset();
    memory_ = std::make_unique<MemoryService>(store_.get(), engine_.get(), options);
    chat_ = std::make_unique<ChatService>(store_.get(), engine_.get(), &events_,
                                          PersonaPromptBuilder(engine_.get(), n_ctx, 64, memory_.get()),
                                          ChatOptions{});
  }
  void TearDown() override {
    chat_->Shutdown();
    memory_->Shutdown();
    std::filesystem::remove_all(dir_);
  }
  // Appends a finished exchange without the engine (a long history, quickly).
  void Exchange(Id conversation_id, const std::string& user_text, const std::string& reply) {
    auto all = store_->ListMessages(conversation_id);
    Id parent = all.ok() && !all->empty() ? all->back().id : kNoId;
    store::Message m;
    m.conversation_id = conversation_id;
    m.role = "user";
    m.content = user_text;
    m.parent_id = parent;
    m = *store_->AppendMessage(m);
    store::Message r;
    r.conversation_id = conversation_id;
    r.role = "assistant";
    r.content = reply;
    r.parent_id = m.id;
    ASSERT_TRUE(store_->AppendMessage(r).ok());
  }
  std::string Everything(const BuiltPrompt& p) {
    std::string out;
    for (const auto& m : p.request.messages) out += m.content + "\n";
    return out;
  }
  std::string Section(const BuiltPrompt& p, const std::string& name) {
    std::string out;
    for (size_t i = 0; i < p.sections.size(); ++i)
      if (p.sections[i] == name) out += p.request.messages[i].content + "\n";
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<testing::FakeEngine> engine_;
  UserEvents events_;
  std::unique_ptr<MemoryService> memory_;
  std::unique_ptr<ChatService> chat_;
  store::User ann_, ben_;
  store::Character aria_;
};

TEST_F(MemoryServiceTest, MemoriesAreThePairsAndReachOnlyTheirPrompt) {
  auto a1 = *chat_->StartConversation(ann_.id, aria_.id);
  auto a2 = *chat_->StartConversation(ann_.id, aria_.id);
  auto b = *chat_->StartConversation(ben_.id, aria_.id);
  ASSERT_TRUE(memory_->AddNote(ann_.id, a1.id, "Ann's dog is called Bori.").ok());
  // Shared by the pair's conversations; in the pinned section of the prompt.
  auto listed = memory_->List(ann_.id, a2.id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  auto pa = chat_->InspectPrompt(ann_.id, a2.id, "hi");
  ASSERT_TRUE(pa.ok()) << pa.status().ToString();
  EXPECT_NE(Section(*pa, "pinned").find("Ann's dog is called Bori."), std::string::npos);
  EXPECT_EQ(Section(*pa, "draft"), "hi\n");
  // Never in another user's prompt, list or reach.
  auto pb = chat_->InspectPrompt(ben_.id, b.id, "what is my dog called? Bori?");
  ASSERT_TRUE(pb.ok());
  EXPECT_EQ(Everything(*pb).find("Bori."), std::string::npos);
  EXPECT_TRUE(memory_->List(ben_.id, b.id)->items.empty());
  EXPECT_TRUE(memory_->List(ben_.id, a1.id).status().IsNotFound());
  EXPECT_TRUE(memory_->AddNote(ben_.id, a1.id, "mine now").status().IsNotFound());
  EXPECT_TRUE(memory_->Edit(ben_.id, b.id, listed->items[0].id, "x").status().IsNotFound());
  EXPECT_TRUE(memory_->Delete(ben_.id, b.id, listed->items[0].id).IsNotFound());
  EXPECT_TRUE(chat_->InspectPrompt(ben_.id, a1.id, "x").status().IsNotFound());
  // Ann's old message cannot be pinned or forgotten from Ben's conversation.
  auto path = *chat_->Path(ann_.id, a1.id);
  EXPECT_TRUE(memory_->Pin(ben_.id, b.id, path[0].message.id).status().IsNotFound());
  EXPECT_TRUE(memory_->Forget(ben_.id, b.id, path[0].message.id).IsNotFound());
}

TEST_F(MemoryServiceTest, LimitsAreClearErrors) {
  MemoryOptions o;
  o.max_items = 3;
  o.max_chars = 20;
  Start(o, 4096);
  auto conv = *chat_->StartConversation(ann_.id, aria_.id);
  auto too_long = memory_->AddNote(ann_.id, conv.id, std::string(21, 'a'));
  EXPECT_EQ(too_long.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(too_long.status().message().find("at most 20 characters"), std::string::npos);
  // Characters, not bytes: 20 Hangul syllables fit.
  EXPECT_TRUE(memory_->AddNote(ann_.id, conv.id, std::string(20 * 3, 'x').substr(0, 0) +
                                                     "가나다라마바사아자차카타파하가나다라마바")
                  .ok());
  EXPECT_EQ(memory_->AddNote(ann_.id, conv.id, "   ").status().code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(memory_->AddNote(ann_.id, conv.id, "two").ok());
  ASSERT_TRUE(memory_->AddNote(ann_.id, conv.id, "three").ok());
  auto fourth = memory_->AddNote(ann_.id, conv.id, "four");
  EXPECT_EQ(fourth.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(fourth.status().message().find("3 memories"), std::string::npos);
  EXPECT_EQ(memory_->List(ann_.id, conv.id)->items.size(), 3u);
  // A message longer than a memory cannot be pinned (and says what to do instead).
  Exchange(conv.id, "this user message is longer than twenty characters", "ok");
  auto path = *chat_->Path(ann_.id, conv.id);
  auto pin = memory_->Pin(ann_.id, conv.id, path[1].message.id);
  EXPECT_EQ(pin.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(pin.status().message().find("memory note"), std::string::npos);
  auto summary = memory_->SetSummary(ann_.id, conv.id, std::string(4001, 's'));
  EXPECT_EQ(summary.status().code(), Status::Code::kInvalidArgument);
}

TEST_F(MemoryServiceTest, RecallFindsOldTurnsAndNeverForgottenOnes) {
  Start(MemoryOptions{}, 700);  // a small window: history drops quickly
  auto conv = *chat_->StartConversation(ann_.id, aria_.id);
  Exchange(conv.id, "My dog is called Bori and she is three years old.", "What a lovely name.");
  Exchange(conv.id, "I start my new job on March 3rd at the harbour office.", "Good luck!");
  Exchange(conv.id, "We met the lighthouse keeper on the cliff.", "He had a grey cat.");
  for (int i = 0; i < 12; ++i) Exchange(conv.id, "I went to the bakery again.", "Nice.");
  for (int i = 0; i < 60; ++i)
    Exchange(conv.id, "Filler message number " + std::to_string(i) + " about the weather today.",
             "Reply number " + std::to_string(i) + " about clouds and rain over the sea.");
  auto p = chat_->InspectPrompt(ann_.id, conv.id, "How is Bori doing these days?");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string recalled = Section(*p, "recalled");
  EXPECT_NE(recalled.find("My dog is called Bori"), std::string::npos) << recalled;
  EXPECT_EQ(recalled.find("March 3rd"), std::string::npos);
  ASSERT_FALSE(p->recalled.empty());
  // Just after the draft, and never a message that is already in the window.
  ASSERT_GE(p->sections.size(), 2u);
  EXPECT_EQ(p->sections[p->sections.size() - 2], "draft");
  EXPECT_EQ(p->sections.back(), "recalled");
  for (const auto& r : p->recalled)
    for (Id in_window : p->source_ids) EXPECT_NE(r.message_id, in_window);
  // Forget it: never recalled again; it stays in the chat.
  ASSERT_TRUE(memory_->Forget(ann_.id, conv.id, p->recalled[0].message_id).ok());
  auto q = chat_->InspectPrompt(ann_.id, conv.id, "How is Bori doing these days?");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(Section(*q, "recalled").find("My dog is called Bori"), std::string::npos);
  EXPECT_TRUE(store_->GetMessage(p->recalled[0].message_id).ok());
  // A message whose every word the window already holds asks for no recall.
  auto held = chat_->InspectPrompt(ann_.id, conv.id, "Filler message about the weather today.");
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(held->recalled.empty());
  EXPECT_EQ(Section(*held, "recalled"), "");
  // Nor does one whose new words are in many old messages (they single nothing out), or in
  // none.
  auto common = chat_->InspectPrompt(ann_.id, conv.id, "Shall we go to the bakery?");
  ASSERT_TRUE(common.ok());
  EXPECT_TRUE(common->recalled.empty()) << Section(*common, "recalled");
  auto unknown = chat_->InspectPrompt(ann_.id, conv.id, "zzz qqq");
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->recalled.empty());
  // One that brings up something specific does, and the previous reply's specific new
  // words join in: "harbour" finds the job, the reply's "lighthouse keeper" the cliff.
  Exchange(conv.id, "Tell me a story.", "I keep thinking about that lighthouse keeper.");
  auto other = chat_->InspectPrompt(ann_.id, conv.id, "What about the harbour?");
  ASSERT_TRUE(other.ok());
  const std::string both = Section(*other, "recalled");
  EXPECT_NE(both.find("March 3rd"), std::string::npos) << both;
  EXPECT_NE(both.find("We met the lighthouse keeper"), std::string::npos) << both;
  EXPECT_EQ(both.find("Bori"), std::string::npos) << both;
}

TEST_F(MemoryServiceTest, NewTermsAreTheQueryWordsTheWindowDoesNotHold) {
  std::vector<persona::PromptMessage> window = {
      {"user", "We walked along the river.", "", 1},
      {"assistant", "The river was calm and wide.", "", 2},
      {"user", "My dog Bori loves the river.", "", 3},  // the message being answered
  };
  // The message being answered does not count as holding its own words.
  EXPECT_EQ(MemoryService::NewTerms(window, QueryTerms("Bori loves the river")),
            (std::vector<std::string>{"bori", "loves"}));
  // Nor does the reply just before it; older messages do.
  window.push_back({"assistant", "Bori sounds sweet.", "", 4});
  window.push_back({"user", "Bori and the river kayak", "", 5});
  EXPECT_EQ(MemoryService::NewTerms(window, QueryTerms("Bori and the river kayak")),
            (std::vector<std::string>{"kayak"}));
  EXPECT_TRUE(MemoryService::NewTerms(window, QueryTerms("the river")).empty());
  // CJK bigrams the same way.
  std::vector<persona::PromptMessage> ko = {{"user", "보리랑 산책했어", "", 1},
                                            {"assistant", "좋았겠다", "", 2},
                                            {"user", "보리는 서윤이를 좋아해", "", 3}};
  EXPECT_EQ(MemoryService::NewTerms(ko, QueryTerms("보리는 서윤이를 좋아해")),
            (std::vector<std::string>{"리는", "서윤", "윤이", "이를", "좋아", "아해"}));
}

TEST_F(MemoryServiceTest, ANewSummaryWaitsUntilTheWindowMoves) {
  MemoryOptions o;
  o.summaries = false;  // this test writes the versions
  Start(o, 700);
  auto conv = *chat_->StartConversation(ann_.id, aria_.id);
  for (int i = 0; i < 30; ++i)
    Exchange(conv.id, "Filler message number " + std::to_string(i) + " about the weather.",
             "Reply number " + std::to_string(i) + " about clouds over the sea.");
  auto builder = PersonaPromptBuilder(engine_.get(), 700, 64, memory_.get());
  auto build = [&]() {
    auto path = *chat_->Path(ann_.id, conv.id);
    std::vector<store::Message> history;
    for (auto& e : path) history.push_back(e.message);
    PromptContext ctx{aria_, ann_, conv, history};
    auto p = builder(ctx);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return std::move(p).value();
  };
  auto window_first = [](const BuiltPrompt& p) {
    for (size_t i = 0; i < p.sections.size(); ++i)
      if (p.sections[i] == "history") return p.source_ids[i];
    return kNoId;
  };
  auto add_summary = [&](const std::string& text, bool edited) {
    store::MemorySummary s;
    s.user_id = ann_.id;
    s.character_id = aria_.id;
    s.content = text;
    s.edited = edited;
    ASSERT_TRUE(store_->AddSummary(s).ok());
  };
  const BuiltPrompt p1 = build();
  ASSERT_NE(window_first(p1), kNoId);
  add_summary("The sea was grey all week.", false);
  // Same window: the prompt keeps what it had (no summary), so its cached history holds.
  const BuiltPrompt p2 = build();
  EXPECT_EQ(window_first(p2), window_first(p1));
  EXPECT_EQ(Section(p2, "summary"), "");
  // The inspector shows what the next turn sends, and changes nothing.
  auto inspected = chat_->InspectPrompt(ann_.id, conv.id, "hi");
  ASSERT_TRUE(inspected.ok());
  EXPECT_EQ(Section(*inspected, "summary"), "");
  // When the window moves, the new version comes in with it.
  BuiltPrompt p = p2;
  for (int i = 0; i < 40 && window_first(p) == window_first(p1); ++i) {
    Exchange(conv.id, "More words " + std::to_string(i), "Answer " + std::to_string(i));
    p = build();
    if (window_first(p) == window_first(p1)) EXPECT_EQ(Section(p, "summary"), "");
  }
  ASSERT_NE(window_first(p), window_first(p1)) << "the window never moved";
  EXPECT_NE(Section(p, "summary").find("The sea was grey all week."), std::string::npos);
  // A newer generated version waits again; one the user writes comes in at once.
  add_summary("A generated second version.", false);
  EXPECT_NE(Section(build(), "summary").find("The sea was grey all week."), std::string::npos);
  ASSERT_TRUE(memory_->SetSummary(ann_.id, conv.id, "Written by Ann.").ok());
  EXPECT_NE(Section(build(), "summary").find("Written by Ann."), std::string::npos);
}

TEST_F(MemoryServiceTest, RankOrdersByScoreRecencyImportanceAndDropsDuplicates) {
  const int64_t now = 1000LL * 86400000;
  auto hit = [&](Id id, const char* role, const std::string& text, double score, int days_ago,
                 int rating = 0) {
    store::RecallHit h;
    h.message.id = id;
    h.message.role = role;
    h.message.content = text;
    h.message.rating = rating;
    h.message.created_at_ms = now - days_ago * 86400000LL;
    h.score = score;
    return h;
  };
  auto ranked = MemoryService::Rank(
      {hit(1, "assistant", "the assistant said bori once", 10, 0),
       hit(2, "user", "my dog is called Bori, she is three", 10, 0),       // user: x1.15
       hit(3, "user", "My  dog is called bori, she is three", 9, 0),       // duplicate of 2
       hit(4, "assistant", "an old and well rated reply about bori", 9, 400, 5),
       hit(5, "user", "bori", 10, 0),                                      // short: x0.8
       hit(6, "assistant", "a weaker match about the same dog", 4, 0)},
      now);
  std::vector<Id> ids;
  for (const auto& r : ranked) ids.push_back(r.message_id);
  // 2: 1.15; 1: 1.0; 4: 0.9 x (0.75 + 0.25 e^-4.4) x 1.25 = 0.85; 5: 0.92; 6: 0.4.
  EXPECT_EQ(ids, (std::vector<Id>{2, 1, 5, 4, 6}));
}

TEST_F(MemoryServiceTest, SummaryJobRunsAtBackgroundPriorityWhenHistoryLeavesTheWindow) {
  Start(MemoryOptions{}, 700);
  auto conv = *chat_->StartConversation(ann_.id, aria_.id);
  for (int i = 0; i < 40; ++i)
    Exchange(conv.id, "Message " + std::to_string(i) + " with several words to take space.",
             "Answer " + std::to_string(i) + " that also takes a little space here.");
  // The inspector never queues a summary.
  ASSERT_TRUE(chat_->InspectPrompt(ann_.id, conv.id, "hello").ok());
  memory_->WaitIdle();
  EXPECT_EQ(memory_->Stats().summary_jobs_queued, 0);
  engine::SamplingParams sp;
  sp.max_tokens = 4;
  auto sent = chat_->Send(ann_.id, conv.id, "hello there", "", sp);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  memory_->WaitIdle();
  EXPECT_EQ(memory_->Stats().summary_jobs_queued, 1);
  EXPECT_EQ(memory_->Stats().summaries_written, 1);
  auto view = memory_->List(ann_.id, conv.id);
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(view->summary.has_value());
  EXPECT_EQ(view->summary->version, 1);
  EXPECT_FALSE(view->summary->edited);
  EXPECT_FALSE(view->summary->content.empty());
  EXPECT_GT(view->summary->covers_until_message_id, 0);
  // The engine saw it as background work, with the dropped messages in it.
  bool found = false;
  for (const auto& r : engine_->requests()) {
    if (r.priority != engine::Priority::kBackground) continue;
    found = true;
    EXPECT_NE(r.messages.back().content.find("Message 0 with several words"), std::string::npos);
  }
  EXPECT_TRUE(found);
  // The prompts carry the story so far from when the window next moves (not before: the
  // cached history after it stays valid); a user edit makes a new version.
  auto p = chat_->InspectPrompt(ann_.id, conv.id, "and now?");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Section(*p, "summary"), "");
  for (int i = 0; i < 40 && Section(*p, "summary").empty(); ++i) {
    Exchange(conv.id, "More " + std::to_string(i) + " words to move the window along.",
             "Sure " + std::to_string(i) + ".");
    p = chat_->InspectPrompt(ann_.id, conv.id, "and now?");
    ASSERT_TRUE(p.ok());
  }
  EXPECT_NE(Section(*p, "summary").find(view->summary->content), std::string::npos);
  auto edited = memory_->SetSummary(ann_.id, conv.id, "They talked a lot.");
  ASSERT_TRUE(edited.ok());
  EXPECT_EQ(edited->version, 2);
  EXPECT_TRUE(edited->edited);
  EXPECT_EQ(edited->covers_until_message_id, view->summary->covers_until_message_id);
}

TEST_F(MemoryServiceTest, ALongBacklogIsSummarisedFromItsNewestPart) {
  MemoryOptions o;
  o.summary_input_tokens = 60;  // a few messages
  Start(o, 700);
  auto conv = *chat_->StartConversation(ann_.id, aria_.id);
  for (int i = 0; i < 40; ++i)
    Exchange(conv.id, "Message " + std::to_string(i) + " with several words to take space.",
             "Answer " + std::to_string(i) + " that also takes a little space here.");
  engine::SamplingParams sp;
  sp.max_tokens = 4;
  ASSERT_TRUE(chat_->Send(ann_.id, conv.id, "hello there", "", sp).ok());
  memory_->WaitIdle();
  // One job, not one per 60 tokens of the backlog.
  EXPECT_EQ(memory_->Stats().summary_jobs_queued, 1);
  ASSERT_EQ(memory_->Stats().summaries_written, 1);
  auto view = memory_->List(ann_.id, conv.id);
  ASSERT_TRUE(view.ok() && view->summary);
  auto newest = store_->GetMessage(view->summary->covers_until_message_id);
  ASSERT_TRUE(newest.ok());
  // It read the messages just before the window (ending with the one it covers up to),
  // not the oldest ones.
  bool found = false;
  for (const auto& r : engine_->requests()) {
    if (r.priority != engine::Priority::kBackground) continue;
    found = true;
    const std::string& input = r.messages.back().content;
    EXPECT_EQ(input.find("Message 0 with"), std::string::npos) << input;
    const std::string last_line = ": " + newest->content + "\n";
    ASSERT_GE(input.size(), last_line.size());
    EXPECT_EQ(input.substr(input.size() - last_line.size()), last_line) << input;
  }
  EXPECT_TRUE(found);
  // The window holds what comes after it.
  auto p = chat_->InspectPrompt(ann_.id, conv.id, "and now?");
  ASSERT_TRUE(p.ok());
  for (Id id : p->source_ids) EXPECT_NE(id, newest->id);
}

TEST_F(MemoryServiceTest, HybridRecallFindsAParaphraseBm25Misses) {
  auto run = [&](bool dense) {
    ConceptEngine concepts;
    MemoryOptions o;
    o.dense_recall = dense;
    o.summaries = false;
    MemoryService memory(store_.get(), &concepts, o);
    EXPECT_EQ(memory.dense(), dense);
    ChatService chat(store_.get(), &concepts, &events_,
                     PersonaPromptBuilder(&concepts, 700, 64, &memory), ChatOptions{});
    auto conv = chat.FindOrStartConversation(ann_.id, aria_.id);
    EXPECT_TRUE(conv.ok());
    if (conv->id && store_->ListMessages(conv->id)->size() < 10) {
      Exchange(conv->id, "My dog is called Bori and she is three years old.", "What a name.");
      for (int i = 0; i < 60; ++i)
        Exchange(conv->id, "Filler message number " + std::to_string(i) + " about nothing much.",
                 "Reply number " + std::to_string(i) + ", nothing much.");
    }
    // The first prompt queues the backlog; recall uses what is embedded by the next one.
    EXPECT_TRUE(chat.InspectPrompt(ann_.id, conv->id, "warm up").ok());
    memory.WaitIdle();
    if (dense) EXPECT_GE(memory.Stats().messages_embedded, 121);
    auto p = chat.InspectPrompt(ann_.id, conv->id, "How is my puppy?");
    EXPECT_TRUE(p.ok());
    bool found = false;
    for (const auto& r : p->recalled) found |= r.text.find("Bori") != std::string::npos;
    chat.Shutdown();
    memory.Shutdown();
    return found;
  };
  EXPECT_FALSE(run(false));  // "puppy" shares no term with "dog" or "Bori"
  EXPECT_TRUE(run(true));
}

TEST_F(MemoryServiceTest, FuseIsWeightedReciprocalRankFusion) {
  // 1: 1/61 + 1/63; 2: 1/62 + 1/61; 3: 1/63; 4: 1/62.
  EXPECT_EQ(MemoryService::Fuse({{{1, 2, 3}, 1.0}, {{2, 4, 1}, 1.0}}), (std::vector<Id>{2, 1, 4, 3}));
  EXPECT_EQ(MemoryService::Fuse({{{}, 1.0}, {{5, 6}, 1.0}}), (std::vector<Id>{5, 6}));
  // A half-weight list's first (0.5/61) ranks below a full-weight list's second (1/62).
  EXPECT_EQ(MemoryService::Fuse({{{7, 8}, 1.0}, {{9}, 0.5}}), (std::vector<Id>{7, 8, 9}));
}

TEST_F(MemoryServiceTest, NearDuplicatePassagesAreDropped) {
  auto kept = MemoryService::WithoutNearDuplicates(
      {{1, 1, 0, "assistant", "Amazing! That is not easy, well done."},
       {2, 1, 0, "assistant", "Amazing! That is not easy, you did well done."},
       {3, 1, 0, "user", "My dog is called Bori."},
       {4, 1, 0, "assistant", "대단하다! 그거 쉽지 않은데 정말 잘했어."},
       {5, 1, 0, "assistant", "와, 대단하다! 그거 쉽지 않은데 정말 잘했어."}});
  std::vector<Id> ids;
  for (const auto& p : kept) ids.push_back(p.message_id);
  EXPECT_EQ(ids, (std::vector<Id>{1, 3, 4}));
}

TEST_F(MemoryServiceTest, AChattyReplyDoesNotCrowdOutWhatTheUserAsked) {
  Start(MemoryOptions{}, 700);
  auto conv = *chat_->StartConversation(ann_.id, aria_.id);
  Exchange(conv.id, "우리 강아지 이름은 보리야", "귀여운 이름이네!");
  for (int i = 0; i < 80; ++i)
    Exchange(conv.id, "오늘 날씨가 좋아서 산책했어 " + std::to_string(i),
             "대단하다! 그거 쉽지 않은데 정말 잘했어. 요즘 어떻게 지내? " + std::to_string(i));
  auto p = chat_->InspectPrompt(ann_.id, conv.id, "보리는 요즘 잘 지내?");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_NE(Section(*p, "recalled").find("보리야"), std::string::npos) << Section(*p, "recalled");
}

}  // namespace
}  // namespace tokki::chat
