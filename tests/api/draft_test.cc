// POST /api/characters/draft with the test engine: who may call it, what it accepts, the
// request the engine gets, and the per-user cap it shares with replies. Drafts written by
// the generated model are tested in draft_model_test.cc.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.h"

namespace tokki::testing {
namespace {

using nlohmann::json;

class DraftApiTest : public ServerFixture {
 protected:
  HttpResult Draft(HttpClient& c, const json& body) {
    return c.Post("/api/characters/draft", body);
  }
  // Starts a streamed draft, reads its first token and hangs up (which cancels the draft).
  int StartDraftAndLeave(HttpClient& c) {
    int status = 0;
    c.Stream(http::verb::post, "/api/characters/draft",
             json{{"idea", "a lighthouse keeper"}, {"language", "en"}}.dump(), "token", 1, {},
             &status);
    return status;
  }
};

TEST_F(DraftApiTest, OnlySignedInUsers) {
  auto anon = Client();
  ExpectError(Draft(anon, {{"idea", "a pirate cat"}, {"language", "en"}}), 401, "unauthenticated");
}

TEST_F(DraftApiTest, BadInputIs400) {
  auto u = User("drafter");
  ExpectError(Draft(u, {{"language", "en"}}), 400, "invalid_argument");
  ExpectError(Draft(u, {{"idea", ""}, {"language", "en"}}), 400, "invalid_argument");
  ExpectError(Draft(u, {{"idea", "   \n "}, {"language", "en"}}), 400, "invalid_argument");
  ExpectError(Draft(u, {{"idea", 42}, {"language", "en"}}), 400, "invalid_argument");
  ExpectError(Draft(u, {{"idea", "a pirate cat"}, {"language", "fr"}}), 400, "invalid_argument");
  ExpectError(Draft(u, {{"idea", "a pirate cat"}, {"language", 1}}), 400, "invalid_argument");
  std::string long_idea;
  for (int i = 0; i < 2001; ++i) long_idea += "가";  // characters count, not bytes
  ExpectError(Draft(u, {{"idea", long_idea}, {"language", "ko"}}), 400, "invalid_argument");
  ExpectError(u.Request(http::verb::post, "/api/characters/draft", "{not json"), 400, "invalid_argument");
  EXPECT_TRUE(engine_->requests().empty());  // nothing reached the engine

  // 2,000 characters is fine.
  long_idea.erase(long_idea.size() - std::string("가").size());
  int status = 0;
  auto events = u.Stream(http::verb::post, "/api/characters/draft",
                         json{{"idea", long_idea}, {"language", "ko"}}.dump(), "token", 1, {}, &status);
  EXPECT_EQ(status, 200);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].event, "token");
}

TEST_F(DraftApiTest, EngineGetsTheSchemaAndTheIdea) {
  auto u = User("drafter2");
  EXPECT_EQ(StartDraftAndLeave(u), 200);
  auto requests = engine_->requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  auto schema = json::parse(r.sampling.json_schema, nullptr, false);
  ASSERT_TRUE(schema.is_object()) << r.sampling.json_schema;
  EXPECT_EQ(schema["required"].size(), 8u);
  EXPECT_EQ(schema["properties"]["name"]["maxLength"], 40);
  EXPECT_TRUE(r.sampling.grammar.empty());
  EXPECT_FALSE(r.sampling.ignore_eos);
  EXPECT_EQ(r.priority, engine::Priority::kBackground);
  EXPECT_EQ(r.user_key, "user:" + std::to_string(wiring_->store->GetUserByName("drafter2")->id));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_NE(r.messages[1].content.find("a lighthouse keeper"), std::string::npos);
}

TEST_F(DraftApiTest, ATextThatIsNoDraftEndsWithAnError) {
  // The test engine writes "w1 w2 …" until max_tokens: no JSON, and cut short.
  StopServer();
  StartServer(/*token_delay_ms=*/0);
  auto u = User("drafter3");
  auto events = u.Stream(http::verb::post, "/api/characters/draft",
                         json{{"idea", "a baker"}, {"language", "en"}}.dump(), "draft");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().event, "token");
  EXPECT_EQ(events.back().event, "error");
  EXPECT_EQ(events.back().json()["code"], "unavailable");
  // Without a stream: the same, as an error answer once it is over.
  ExpectError(Draft(u, {{"idea", "a baker"}, {"language", "en"}}), 503, "unavailable");
}

TEST_F(DraftApiTest, AClientThatLeavesCancelsItsDraft) {
  StopServer();
  StartServer(/*token_delay_ms=*/3);  // a draft runs 2048 tokens: about 6 s
  auto u = User("leaver");
  EXPECT_EQ(StartDraftAndLeave(u), 200);
  for (int i = 0; i < 50 && engine_->active() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(engine_->active(), 0);  // stopped long before its 2048 tokens
}

TEST_F(DraftApiTest, DraftsCountAgainstTheRepliesCap) {
  StopServer();
  StartServer(/*token_delay_ms=*/3);  // a draft runs 2048 tokens: about 6 s
  auto u = User("busy");
  std::vector<std::thread> readers;
  std::atomic<int> ended_with_error{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([this, token = u.token(), &ended_with_error] {
      HttpClient c(port_);
      c.set_token(token);
      auto events = c.Stream(http::verb::post, "/api/characters/draft",
                             json{{"idea", "a lighthouse keeper"}, {"language", "en"}}.dump(), "draft");
      if (!events.empty() && events.back().event == "error") ++ended_with_error;
    });
  }
  for (int i = 0; i < 100 && engine_->active() < 4; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(engine_->active(), 4);
  // The fifth draft, and a reply, are over the cap of 4.
  auto r = Draft(u, {{"idea", "one more"}, {"language", "en"}});
  ExpectError(r, 429, "rate_limited");
  EXPECT_FALSE(r.headers["Retry-After"].empty());
  auto ch = u.Post("/api/characters", {{"name", "Mo"}, {"first_mes", "hi"}});
  ASSERT_EQ(ch.status, 201) << ch.body;
  auto conv = u.Post("/api/conversations", {{"character_id", ch.json()["id"]}});
  ASSERT_EQ(conv.status, 201) << conv.body;
  const std::string conv_id = std::to_string(conv.json()["id"].get<int64_t>());
  ExpectError(u.Post("/api/conversations/" + conv_id + "/messages", {{"content", "hello"}}), 429,
              "rate_limited");
  // Another user is not affected.
  auto other = User("calm");
  EXPECT_EQ(StartDraftAndLeave(other), 200);
  // When the drafts end (the test engine's text is no draft) their slots come back.
  for (auto& t : readers) t.join();
  EXPECT_EQ(ended_with_error.load(), 4);
  EXPECT_EQ(StartDraftAndLeave(u), 200);
}

}  // namespace
}  // namespace tokki::testing
