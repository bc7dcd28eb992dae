// The operator's side over HTTP: reports, the moderation queue and its actions, roles, the
// audit log, the content policy, mature content, account deletion, the admin listener.
#include <set>

#include "server_fixture.h"

namespace tokki::testing {
namespace {

using nlohmann::json;


class ModerationTest : public ServerFixture {
 protected:
  json Character(HttpClient& c, json fields) {
    if (!fields.contains("first_mes")) fields["first_mes"] = "hello";
    auto r = c.Post("/api/characters", fields);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
  std::string Path(const json& character) { return "/api/characters/" + std::to_string(character["id"].get<int64_t>()); }
};

TEST_F(ModerationTest, ReportHideSuspendAndTheAuditLog) {
  auto creator = User("shady");
  auto fan = User("reporter");
  auto admin = Admin("boss");
  auto ch = Character(creator, {{"name", "Scammer"}, {"visibility", "public"}});
  auto report = fan.Post("/api/reports", {{"target_kind", "character"}, {"target_id", ch["id"]},
                                          {"reason", "spam"}, {"note", "links everywhere"}});
  ASSERT_EQ(report.status, 201) << report.body;
  ExpectError(fan.Post("/api/reports", {{"target_kind", "character"}, {"target_id", ch["id"]}, {"reason", "spam"}}),
              409, "already_exists");
  ExpectError(fan.Post("/api/reports", {{"target_kind", "character"}, {"target_id", ch["id"]}, {"reason", "boring"}}),
              400, "invalid_argument");
  // Plain users cannot see the queue.
  ExpectError(fan.Get("/api/admin/reports"), 403, "permission_denied");
  auto queue = admin.Get("/api/admin/reports");
  ASSERT_EQ(queue.status, 200) << queue.body;
  ASSERT_EQ(queue.json()["items"].size(), 1u);
  auto item = queue.json()["items"][0];
  EXPECT_EQ(item["reason"], "spam");
  EXPECT_EQ(item["reporter"]["username"], "reporter");
  EXPECT_EQ(item["character"]["owner"]["username"], "shady");
  int64_t report_id = item["id"];

  auto hidden = admin.Post(Path(ch) + "/hide", {{"hidden", true}, {"report_id", report_id}});
  ExpectError(hidden, 404, "not_found");  // the admin routes live under /api/admin
  hidden = admin.Post("/api/admin/characters/" + std::to_string(ch["id"].get<int64_t>()) + "/hide",
                      {{"hidden", true}, {"report_id", report_id}});
  ASSERT_EQ(hidden.status, 200) << hidden.body;
  EXPECT_TRUE(hidden.json()["character"]["hidden"].get<bool>());
  // Gone for others; still there for its creator.
  ExpectError(fan.Get(Path(ch)), 404, "not_found");
  json listed = fan.Get("/api/characters?limit=100").json()["items"];
  for (auto& c : listed) EXPECT_NE(c["name"], "Scammer");
  EXPECT_EQ(creator.Get(Path(ch)).status, 200);
  EXPECT_TRUE(admin.Get("/api/admin/reports").json()["items"].empty());  // actioned
  EXPECT_EQ(admin.Get("/api/admin/reports?status=actioned").json()["items"].size(), 1u);

  auto shady = wiring_->store->GetUserByName("shady");
  ASSERT_TRUE(shady.ok());
  auto suspended = admin.Post("/api/admin/users/" + std::to_string(shady->id) + "/suspend", {{"suspended", true}});
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  ExpectError(creator.Get("/api/me"), 401, "unauthenticated");  // the session is gone at once
  HttpClient again(port_);
  ExpectError(again.Post("/api/auth/login", {{"username", "shady"}, {"password", "correct-horse"}}), 403,
              "permission_denied");

  auto audit = admin.Get("/api/admin/audit").json()["items"];
  ASSERT_GE(audit.size(), 2u);
  EXPECT_EQ(audit[0]["action"], "user.suspend");
  EXPECT_EQ(audit[1]["action"], "character.hide");
  EXPECT_EQ(audit[0]["actor"]["username"], "boss");
}

TEST_F(ModerationTest, RolesAreForAdmins) {
  auto admin = Admin("root1");
  auto mod = User("modder");
  auto target = User("someone");
  auto mod_id = wiring_->store->GetUserByName("modder")->id;
  auto target_id = wiring_->store->GetUserByName("someone")->id;
  ASSERT_EQ(admin.Patch("/api/admin/users/" + std::to_string(mod_id), {{"role", "moderator"}}).status, 200);
  auto relogin = mod.Post("/api/auth/login", {{"username", "modder"}, {"password", "correct-horse"}});
  ASSERT_EQ(relogin.status, 200);
  mod.set_token(relogin.json()["token"]);
  EXPECT_EQ(mod.Get("/api/me").json()["user"]["role"], "moderator");
  EXPECT_EQ(mod.Get("/api/admin/users?q=some").json()["items"].size(), 1u);
  ExpectError(mod.Patch("/api/admin/users/" + std::to_string(target_id), {{"role", "admin"}}), 403, "permission_denied");
  ExpectError(mod.Get("/api/admin/policy"), 403, "permission_denied");
  auto root_id = wiring_->store->GetUserByName("root1")->id;
  ExpectError(mod.Post("/api/admin/users/" + std::to_string(root_id) + "/suspend", {{"suspended", true}}), 403,
              "permission_denied");
  ExpectError(admin.Patch("/api/admin/users/" + std::to_string(root_id), {{"role", "user"}}), 400, "invalid_argument");
}

TEST_F(ModerationTest, ContentPolicyBlocksOrHoldsPublicCharacters) {
  auto admin = Admin("keeper");
  auto put = admin.Request(http::verb::put, "/api/admin/policy",
                           json{{"rules", {{{"language", "en"}, {"type", "term"}, {"text", "scamcoin"}, {"action", "block"}},
                                           {{"id", "watch"}, {"language", ""}, {"type", "term"}, {"text", "수상한"},
                                            {"action", "review"}}}},
                                {"check_replies", false},
                                {"require_adult_confirmation", true}}
                               .dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json()["rules"].size(), 2u);
  auto u = User("author");
  // Private characters are the creator's own business.
  EXPECT_EQ(u.Post("/api/characters", {{"name", "Draft"}, {"description", "buy scamcoin"}}).status, 201);
  auto blocked = u.Post("/api/characters", {{"name", "Shill"}, {"visibility", "public"}, {"language", "en"},
                                            {"description", "Buy SCAMCOIN now!"}});
  ExpectError(blocked, 400, "invalid_argument");
  EXPECT_NE(blocked.json()["error"]["message"].get<std::string>().find("rule-1"), std::string::npos) << blocked.body;
  auto held = u.Post("/api/characters", {{"name", "수상한 상인"}, {"visibility", "public"}, {"language", "ko"}});
  ASSERT_EQ(held.status, 201) << held.body;
  EXPECT_TRUE(held.json()["hidden"].get<bool>());
  auto queue = admin.Get("/api/admin/reports").json()["items"];
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0]["reason"], "policy_review");
  ExpectError(admin.Request(http::verb::put, "/api/admin/policy",
                            json{{"rules", {{{"type", "pattern"}, {"text", "(unclosed"}, {"action", "block"}}}}}.dump()),
              400, "invalid_argument");
}

TEST_F(ModerationTest, RepliesStopAtABlockedTermWhenTheOperatorChecksThem) {
  auto admin = Admin("watcher");
  ASSERT_EQ(admin.Request(http::verb::put, "/api/admin/policy",
                          json{{"rules", {{{"language", ""}, {"type", "term"}, {"text", "w20"}, {"action", "block"}}}},
                               {"check_replies", true}}
                              .dump())
                .status,
            200);
  auto u = User("chatter");
  auto ch = Character(u, {{"name", "Talker"}});
  auto conv = u.Post("/api/conversations", {{"character_id", ch["id"]}}).json();
  // The test engine replies "w1 w2 w3 ...": the reply stops before "w20" is shown (text
  // that could still become the start of a match is held back until it cannot).
  auto events = u.Stream(http::verb::post, "/api/conversations/" + std::to_string(conv["id"].get<int64_t>()) + "/messages",
                         json{{"content", "go"}, {"generation", {{"max_tokens", 40}}}}.dump());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().json()["finish_reason"], "content_filter");
  std::string text;
  for (auto& e : events)
    if (e.event == "token") text += e.json()["text"].get<std::string>();
  EXPECT_EQ(text.find("w20"), std::string::npos) << text;
  EXPECT_NE(text.find("w1 w2 w3"), std::string::npos) << text;
  auto stored = u.Get("/api/conversations/" + std::to_string(conv["id"].get<int64_t>()) + "/messages").json()["items"];
  EXPECT_EQ(stored.back()["content"], text);
  EXPECT_EQ(stored.back()["finish_reason"], "content_filter");
}

TEST_F(ModerationTest, MatureCharactersOnlyForConfirmedAdultsWhoAskForThem) {
  auto creator = User("grown");
  auto viewer = User("viewer");
  Character(creator, {{"name", "Night Club Host"}, {"visibility", "public"}, {"mature", true}});
  Character(creator, {{"name", "Librarian"}, {"visibility", "public"}});
  auto names = [&](const std::string& q) {
    std::set<std::string> out;
    auto r = viewer.Get("/api/characters?limit=100" + q);
    EXPECT_EQ(r.status, 200) << r.body;
    json items = r.json()["items"];
    for (auto& c : items) out.insert(c["name"].get<std::string>());
    return out;
  };
  EXPECT_EQ(names("").count("Night Club Host"), 0u);
  EXPECT_EQ(names("&mature=1").count("Night Club Host"), 0u);  // not confirmed yet
  ASSERT_EQ(viewer.Patch("/api/me", {{"adult_confirmed", true}}).status, 200);
  EXPECT_EQ(names("").count("Night Club Host"), 0u);  // only when asked for
  EXPECT_EQ(names("&mature=1").count("Night Club Host"), 1u);
  EXPECT_EQ(names("&mature=1").count("Librarian"), 1u);
}

TEST_F(ModerationTest, DeletingAnAccountKeepsOthersConversationsReadable) {
  auto leaving = User("leaving");
  auto friend_ = User("staying");
  auto ch = Character(leaving, {{"name", "Farewell"}, {"visibility", "public"}});
  auto conv = friend_.Post("/api/conversations", {{"character_id", ch["id"]}});
  ASSERT_EQ(conv.status, 201);
  std::string cid = std::to_string(conv.json()["id"].get<int64_t>());
  ExpectError(leaving.Request(http::verb::delete_, "/api/me", json{{"password", "wrong-password"}}.dump()), 401,
              "unauthenticated");
  auto gone = leaving.Request(http::verb::delete_, "/api/me", json{{"password", "correct-horse"}}.dump());
  ASSERT_EQ(gone.status, 204) << gone.body;
  ExpectError(leaving.Get("/api/me"), 401, "unauthenticated");
  HttpClient again(port_);
  ExpectError(again.Post("/api/auth/login", {{"username", "leaving"}, {"password", "correct-horse"}}), 401,
              "unauthenticated");
  auto view = friend_.Get("/api/conversations/" + cid);
  ASSERT_EQ(view.status, 200);
  EXPECT_TRUE(view.json()["character"]["removed"].get<bool>());
  EXPECT_EQ(view.json()["read_only_reason"], "character_removed");
  EXPECT_EQ(friend_.Get("/api/conversations/" + cid + "/messages").json()["items"].size(), 1u);
}

TEST_F(ModerationTest, TheAdminListenerServesMetricsWithoutSignIn) {
  api::ServerOptions ao;
  ao.port = 0;
  api::Server ops(ao, api::MakeOpsRoutes(wiring_->services, api::Access::kPublic),
                  api::MakeAuthenticator(wiring_->auth.get()), wiring_->metrics.get());
  auto port = ops.Start();
  ASSERT_TRUE(port.ok());
  HttpClient c(*port);
  auto m = c.Get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("tokki_db_queries_total"), std::string::npos);
  EXPECT_TRUE(c.Get("/api/server").json().contains("details"));
  // The engine has no embedding model: said publicly, no embedding details.
  EXPECT_EQ(c.Get("/api/server").json()["model"]["embeddings"], false);
  EXPECT_FALSE(c.Get("/api/server").json()["model"].contains("embedding"));
  EXPECT_EQ(c.Get("/api/me").status, 404);  // nothing else is served there
  EXPECT_FALSE(Client().Get("/api/server").json().contains("details"));
  ops.Stop(1000);
}

}  // namespace
}  // namespace tokki::testing
