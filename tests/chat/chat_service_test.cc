#include "chat/chat_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "chat/simple_prompt.h"
#include "support/fake_engine.h"

namespace tokki::chat {
namespace {

class ChatServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tokki-chat-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::move(store::OpenSqliteStore((dir_ / "t.db").string())).value();
    engine_ = std::make_unique<testing::FakeEngine>(2);
    chat_ = std::make_unique<ChatService>(store_.get(), engine_.get(), &events_,
                                          SimplePromptBuilder(), ChatOptions{});
    store::User u;
    u.username = "ann";
    u.password_hash = "x";
    user_ = *store_->CreateUser(u);
    u.username = "ben";
    other_ = *store_->CreateUser(u);
    store::Character c;
    c.name = "Li Bai";
    c.visibility = store::Visibility::kPublic;
    c.first_mes = "Greetings, {{user}}! I am {{char}}.";
    c.alternate_greetings = {"The moon is bright tonight.", "Another cup?"};
    character_ = *store_->CreateCharacter(c);
  }
  void TearDown() override {
    chat_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  engine::SamplingParams Tokens(int n) {
    engine::SamplingParams p;
    p.max_tokens = n;
    return p;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<testing::FakeEngine> engine_;
  UserEvents events_;
  std::unique_ptr<ChatService> chat_;
  store::User user_, other_;
  store::Character character_;
};

TEST_F(ChatServiceTest, ConversationStartsWithGreetingAndAlternatives) {
  auto conv = chat_->StartConversation(user_.id, character_.id);
  ASSERT_TRUE(conv.ok()) << conv.status().ToString();
  auto path = chat_->Path(user_.id, conv->id);
  ASSERT_TRUE(path.ok());
  ASSERT_EQ(path->size(), 1u);
  EXPECT_EQ((*path)[0].message.content, "Greetings, ann! I am Li Bai.");
  EXPECT_EQ((*path)[0].alternatives, 3);
  auto sel = chat_->Select(user_.id, conv->id, (*path)[0].message.id, 2);
  ASSERT_TRUE(sel.ok());
  path = chat_->Path(user_.id, conv->id);
  EXPECT_EQ((*path)[0].message.content, "Another cup?");
}

TEST_F(ChatServiceTest, GreetingParticlesAgreeWithTheNames) {
  store::Character c;
  c.name = "세종";
  c.visibility = store::Visibility::kPublic;
  c.first_mes = "{{user}}를 기다렸네. {{char}}가 왔노라.";
  c = *store_->CreateCharacter(c);
  auto conv = chat_->StartConversation(user_.id, c.id);
  ASSERT_TRUE(conv.ok()) << conv.status().ToString();
  auto path = chat_->Path(user_.id, conv->id);
  ASSERT_TRUE(path.ok());
  ASSERT_EQ(path->size(), 1u);
  // "ann" ends in n (앤): 을; 세종 has a batchim: 이.
  EXPECT_EQ((*path)[0].message.content, "ann을 기다렸네. 세종이 왔노라.");
}

TEST_F(ChatServiceTest, SendStreamsAndPersists) {
  auto conv = *chat_->StartConversation(user_.id, character_.id);
  auto out = chat_->Send(user_.id, conv.id, "Hello poet", "c-1", Tokens(5));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(out->stream->WaitFinished(5000));
  bool fin = false;
  auto events = out->stream->Since(0, &fin);
  EXPECT_TRUE(fin);
  ASSERT_EQ(events.size(), 6u);  // 5 tokens + done
  EXPECT_EQ(events.back().kind, ReplyEvent::Kind::kDone);
  EXPECT_EQ(events.back().usage.completion_tokens, 5);
  auto stored = store_->GetMessage(out->reply.id);
  EXPECT_EQ(stored->content, "w1 w2 w3 w4 w5");
  EXPECT_EQ(stored->status, store::MessageStatus::kComplete);
  // The engine saw the greeting and the user message after the static block.
  auto req = engine_->requests().back();
  EXPECT_EQ(req.n_static_messages, 1u);
  EXPECT_EQ(req.messages.back().content, "Hello poet");
  EXPECT_EQ(req.conversation_key, "conv:" + std::to_string(conv.id));
  // Resume from the middle.
  auto again = out->stream->Since(3, &fin);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].seq, 4);
}

TEST_F(ChatServiceTest, ClientIdIsIdempotent) {
  auto conv = *chat_->StartConversation(user_.id, character_.id);
  auto a = chat_->Send(user_.id, conv.id, "Once", "same", Tokens(3));
  ASSERT_TRUE(a.ok());
  a->stream->WaitFinished(5000);
  auto b = chat_->Send(user_.id, conv.id, "Once", "same", Tokens(3));
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(b->user_message.id, a->user_message.id);
  EXPECT_EQ(b->reply.id, a->reply.id);
  auto all = store_->ListMessages(conv.id);
  int users = 0;
  for (auto& m : *all) users += m.role == "user";
  EXPECT_EQ(users, 1);
}

TEST_F(ChatServiceTest, OtherUsersGetNotFound) {
  auto conv = *chat_->StartConversation(user_.id, character_.id);
  EXPECT_TRUE(chat_->Path(other_.id, conv.id).status().IsNotFound());
  EXPECT_TRUE(chat_->Send(other_.id, conv.id, "hi", "", Tokens(2)).status().IsNotFound());
  EXPECT_TRUE(chat_->DeleteConversation(other_.id, conv.id).IsNotFound());
}

TEST_F(ChatServiceTest, StopKeepsPartialReply) {
  auto slow = std::make_unique<testing::FakeEngine>(50);
  ChatService chat(store_.get(), slow.get(), &events_, SimplePromptBuilder(), ChatOptions{});
  auto conv = *chat.StartConversation(user_.id, character_.id);
  auto out = chat.Send(user_.id, conv.id, "Tell me a long story", "", Tokens(1000));
  ASSERT_TRUE(out.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(chat.Send(user_.id, conv.id, "again", "", Tokens(2)).status().code(),
            Status::Code::kConflict);
  auto stopped = chat.Stop(user_.id, conv.id);
  ASSERT_TRUE(stopped.ok());
  EXPECT_TRUE(*stopped);
  auto m = store_->GetMessage(out->reply.id);
  chat.Shutdown();
  m = store_->GetMessage(out->reply.id);
  EXPECT_EQ(m->status, store::MessageStatus::kStopped);
  EXPECT_FALSE(m->content.empty());
  EXPECT_LT(m->content.size(), 1000u * 3);
}

TEST_F(ChatServiceTest, RegenerateAddsAlternativeAndContinueAppends) {
  auto conv = *chat_->StartConversation(user_.id, character_.id);
  auto first = *chat_->Send(user_.id, conv.id, "Hi", "", Tokens(2));
  first.stream->WaitFinished(5000);
  auto regen = chat_->Regenerate(user_.id, conv.id, first.reply.id, Tokens(3));
  ASSERT_TRUE(regen.ok()) << regen.status().ToString();
  regen->stream->WaitFinished(5000);
  auto path = *chat_->Path(user_.id, conv.id);
  ASSERT_EQ(path.size(), 3u);
  EXPECT_EQ(path.back().message.id, regen->reply.id);
  EXPECT_EQ(path.back().alternatives, 2);
  EXPECT_EQ(path.back().message.alternative_index, 1);
  // The regenerated reply was asked with the same history (greeting + user message).
  EXPECT_EQ(engine_->requests().back().messages.back().content, "Hi");

  auto cont = chat_->Continue(user_.id, conv.id, regen->reply.id, Tokens(2));
  ASSERT_TRUE(cont.ok()) << cont.status().ToString();
  cont->stream->WaitFinished(5000);
  EXPECT_TRUE(engine_->requests().back().continue_last);
  auto m = store_->GetMessage(regen->reply.id);
  EXPECT_EQ(m->content, "w1 w2 w3w1 w2");

  // Selecting the first alternative changes the path.
  auto sel = chat_->Select(user_.id, conv.id, regen->reply.id, 0);
  ASSERT_TRUE(sel.ok());
  path = *chat_->Path(user_.id, conv.id);
  EXPECT_EQ(path.back().message.id, first.reply.id);
  EXPECT_TRUE(chat_->Select(user_.id, conv.id, regen->reply.id, 5).status().IsInvalidArgument());
}

TEST_F(ChatServiceTest, BadInputIsRejected) {
  auto conv = *chat_->StartConversation(user_.id, character_.id);
  EXPECT_TRUE(chat_->Send(user_.id, conv.id, "  ", "", Tokens(2)).status().IsInvalidArgument());
  EXPECT_TRUE(chat_->Send(user_.id, conv.id, "\xff\xfe", "", Tokens(2)).status().IsInvalidArgument());
  EXPECT_EQ(chat_->Send(user_.id, conv.id, std::string(20000, 'a'), "", Tokens(2)).status().code(),
            Status::Code::kTooLarge);
  EXPECT_TRUE(chat_->Send(user_.id, 999999, "hi", "", Tokens(2)).status().IsNotFound());
}

// Replies run on the engine's threads and are flushed by the flusher while other threads
// send, read, stop and ask for stats. The tsan preset runs this under ThreadSanitizer
// (docs/architecture.md, "Checking threads"); here it checks the stored end state.
TEST_F(ChatServiceTest, ConcurrentSendsStopsAndReadsEndConsistent) {
  constexpr int kThreads = 4;
  constexpr int kTurns = 6;
  std::vector<Id> convs;
  for (int i = 0; i < kThreads; ++i)
    convs.push_back(chat_->StartConversation(user_.id, character_.id)->id);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      static_cast<void>(chat_->Stats());
      chat_->StopUser(other_.id);  // another user's: must not touch ann's replies
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kTurns; ++k) {
        auto out = chat_->Send(user_.id, convs[t], "turn " + std::to_string(k), "", Tokens(8));
        if (!out.ok()) {
          ADD_FAILURE() << out.status().ToString();
          return;
        }
        if (k % 2 == 1) EXPECT_TRUE(chat_->Stop(user_.id, convs[t]).ok());
        auto stream = chat_->Stream(user_.id, convs[t], out->reply.id);
        EXPECT_TRUE(stream.ok());
        bool finished = false;
        if (stream.ok()) static_cast<void>((*stream)->Since(0, &finished));
        EXPECT_TRUE(out->stream->WaitFinished(5000));
      }
    });
  }
  for (auto& th : threads) th.join();
  done = true;
  watcher.join();
  for (Id conv : convs) {
    auto all = store_->ListMessages(conv);
    ASSERT_TRUE(all.ok());
    int users = 0;
    for (auto& m : *all) {
      users += m.role == "user";
      EXPECT_NE(m.status, store::MessageStatus::kStreaming) << m.id;
    }
    EXPECT_EQ(users, kTurns);
  }
  EXPECT_EQ(chat_->Stats().active_generations, 0);
}

TEST_F(ChatServiceTest, QueueFullIsUnavailableAndLosesNothing) {
  testing::FakeEngine full(1, 0);
  ChatService chat(store_.get(), &full, &events_, SimplePromptBuilder(), ChatOptions{});
  auto conv = *chat.StartConversation(user_.id, character_.id);
  auto out = chat.Send(user_.id, conv.id, "hello", "k", Tokens(2));
  EXPECT_EQ(out.status().code(), Status::Code::kUnavailable);
  // Nothing half-written remains: only the greeting.
  EXPECT_EQ(store_->ListMessages(conv.id)->size(), 3u);  // greeting + 2 alternates
}

}  // namespace
}  // namespace tokki::chat
