// The summary job with the generated tiny model (label "model"): it runs at background
// priority, so a user's reply that arrives while it runs finishes first — an ordering,
// not a timing — and the summary is still written afterwards. With the demo model the
// summary's text is noise; what is checked is that it exists and covers the dropped turns.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "../engine/test_model.h"
#include "chat/memory_service.h"
#include "engine/llama_engine.h"

namespace tokki::chat {
namespace {

TEST(MemoryModelTest, ReplyIsNotDelayedByARunningSummary) {
  auto dir = std::filesystem::temp_directory_path() / ("tokki-memory-model-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = std::move(store::OpenSqliteStore((dir / "t.db").string())).value();
  engine::LlamaEngineOptions eo;
  eo.model_path = engine::testing::TinyModelPath();
  eo.n_threads = 1;
  eo.n_parallel = 1;  // one slot: the reply can only run if the summary gives way
  auto opened = engine::LlamaEngine::Open(eo);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<engine::Engine> engine = std::move(opened).value();

  store::User u;
  u.username = "ann";
  u.password_hash = "x";
  u = *store->CreateUser(u);
  store::Character c;
  c.name = "Aria";
  c = *store->CreateCharacter(c);
  store::Conversation conv = *store->CreateConversation({0, u.id, c.id});
  std::vector<Id> path;
  Id parent = kNoId;
  for (int i = 0; i < 20; ++i) {
    store::Message m;
    m.conversation_id = conv.id;
    m.role = i % 2 ? "assistant" : "user";
    m.content = "message " + std::to_string(i) + " about the lighthouse and the sea";
    m.parent_id = parent;
    m = *store->AppendMessage(m);
    parent = m.id;
    path.push_back(m.id);
  }

  MemoryOptions o;
  o.summary_max_tokens = 400;
  MemoryService memory(store.get(), engine.get(), o);
  persona::PromptInput in;
  EXPECT_FALSE(memory.AfterPrompt(conv, path, 12, &in));  // twelve messages left the window
  // Wait until the summary is being decoded.
  for (int i = 0; i < 2000 && engine->Stats().decode_tokens_total < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_GE(engine->Stats().decode_tokens_total, 3) << "the summary never started";

  engine::GenerateRequest reply;
  reply.user_key = "user:other";
  reply.priority = engine::Priority::kInteractive;
  reply.messages = {{"user", "hello"}};
  reply.sampling.max_tokens = 8;
  reply.sampling.ignore_eos = true;
  auto out = engine::testing::RunGen(*engine, reply);
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_EQ(out.result->usage.completion_tokens, 8);
  // The reply finished while the summary was still unwritten (it had given way).
  EXPECT_EQ(memory.Stats().summaries_written, 0);

  memory.WaitIdle();
  EXPECT_EQ(memory.Stats().summaries_written + memory.Stats().summaries_failed, 1);
  auto summary = store->LatestSummary(u.id, c.id);
  ASSERT_TRUE(summary.ok());
  if (memory.Stats().summaries_written == 1) {
    ASSERT_TRUE(summary->has_value());
    EXPECT_EQ((*summary)->covers_until_message_id, path[11]);
    EXPECT_FALSE((*summary)->content.empty());
  }
  memory.Shutdown();
  engine->Shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tokki::chat
