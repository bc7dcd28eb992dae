// The Memory routes through the real server (docs/api.md, "Memory"): notes and pins,
// order, limits, the summary, forget, the prompt inspector, the export, and isolation.
#include <string>

#include "server_fixture.h"

namespace tokki::testing {
namespace {

using nlohmann::json;

class MemoryApiTest : public ServerFixture {
 protected:
  // A public character and `c`'s conversation with it; returns the conversation id.
  int64_t Conversation(HttpClient& c, const std::string& character_name) {
    auto made = c.Post("/api/characters", {{"name", character_name}, {"visibility", "public"},
                                           {"first_mes", "Hello there."}});
    EXPECT_EQ(made.status, 201) << made.body;
    auto conv = c.Post("/api/conversations", {{"character_id", made.json()["id"]}});
    EXPECT_EQ(conv.status, 201) << conv.body;
    return conv.json()["id"].get<int64_t>();
  }
  std::string Base(int64_t conv) { return "/api/conversations/" + std::to_string(conv); }
};

TEST_F(MemoryApiTest, NotesPinsOrderAndInspector) {
  auto ann = User("ann");
  const int64_t conv = Conversation(ann, "Aria");
  const std::string base = Base(conv);
  auto sent = ann.Post(base + "/messages", {{"content", "My dog is called Bori."}});
  ASSERT_EQ(sent.status, 201) << sent.body;
  const int64_t said = sent.json()["message"]["id"].get<int64_t>();

  auto note = ann.Post(base + "/memories", {{"content", "Ann drinks jasmine tea."}});
  ASSERT_EQ(note.status, 201) << note.body;
  EXPECT_EQ(note.json()["kind"], "note");
  auto pin = ann.Post(base + "/memories", {{"message_id", said}});
  ASSERT_EQ(pin.status, 201) << pin.body;
  EXPECT_EQ(pin.json()["kind"], "pin");
  EXPECT_EQ(pin.json()["content"], "My dog is called Bori.");
  ExpectError(ann.Post(base + "/memories", {{"message_id", said}}), 409, "already_exists");
  ExpectError(ann.Post(base + "/memories", {{"message_id", said}, {"content", "x"}}), 400,
              "invalid_argument");
  // The message says it is pinned.
  auto msgs = ann.Get(base + "/messages").json()["items"];
  bool pinned = false;
  for (auto& m : msgs)
    if (m["id"] == said) pinned = m["pinned"].get<bool>();
  EXPECT_TRUE(pinned);

  auto list = ann.Get(base + "/memories");
  ASSERT_EQ(list.status, 200);
  auto j = list.json();
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["limits"]["max_items"], 50);
  EXPECT_EQ(j["limits"]["max_chars"], 2000);
  EXPECT_TRUE(j["summary"].is_null());
  EXPECT_TRUE(j["demo_model"].get<bool>());  // the fake engine says it is generated

  const int64_t note_id = note.json()["id"], pin_id = pin.json()["id"];
  auto reordered = ann.Put(base + "/memories/order", {{"ids", {pin_id, note_id}}});
  ASSERT_EQ(reordered.status, 200) << reordered.body;
  EXPECT_EQ(reordered.json()["items"][0]["id"], pin_id);
  ExpectError(ann.Put(base + "/memories/order", {{"ids", {pin_id}}}), 400, "invalid_argument");
  auto edited = ann.Patch(base + "/memories/" + std::to_string(note_id),
                          {{"content", "Ann drinks jasmine tea, no sugar."}});
  ASSERT_EQ(edited.status, 200) << edited.body;

  // The inspector: sections in order, the draft last, pinned text in `pinned`.
  auto p = ann.Get(base + "/prompt?draft=" + "How%20is%20Bori%3F");
  ASSERT_EQ(p.status, 200) << p.body;
  auto pj = p.json();
  ASSERT_TRUE(pj["messages"].is_array());
  EXPECT_EQ(pj["messages"][0]["section"], "static");
  EXPECT_EQ(pj["messages"].back()["section"], "draft");
  EXPECT_EQ(pj["messages"].back()["content"], "How is Bori?");
  std::string pinned_text;
  int total = 0;
  for (auto& m : pj["messages"])
    if (m["section"] == "pinned") pinned_text += m["content"].get<std::string>();
  for (auto& [k, v] : pj["sections"].items()) total += v.get<int>();
  EXPECT_NE(pinned_text.find("My dog is called Bori."), std::string::npos);
  EXPECT_NE(pinned_text.find("no sugar"), std::string::npos);
  EXPECT_LT(pinned_text.find("Bori"), pinned_text.find("jasmine"));  // the user's order
  EXPECT_EQ(pj["n_tokens"].get<int>(), total);
  EXPECT_GT(pj["sections"]["pinned"].get<int>(), 0);
  // Nothing was stored by inspecting.
  EXPECT_EQ(ann.Get(base + "/messages").json()["items"].size(), msgs.size());

  // Summary: the user writes one; limits are checked.
  auto s = ann.Put(base + "/summary", {{"content", "Ann told Aria about Bori."}});
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.json()["version"], 1);
  EXPECT_TRUE(s.json()["edited"].get<bool>());
  ExpectError(ann.Put(base + "/summary", {{"content", std::string(4001, 'x')}}), 400, "invalid_argument");
  EXPECT_EQ(ann.Get(base + "/memories").json()["summary"]["content"], "Ann told Aria about Bori.");

  // Delete the pin: the message is no longer pinned.
  EXPECT_EQ(ann.Delete(base + "/memories/" + std::to_string(pin_id)).status, 204);
  ExpectError(ann.Delete(base + "/memories/" + std::to_string(pin_id)), 404, "not_found");
  EXPECT_EQ(ann.Get(base + "/memories").json()["items"].size(), 1u);
}

TEST_F(MemoryApiTest, LimitsAndBadInputAreClearErrors) {
  auto ann = User("ann2");
  const std::string base = Base(Conversation(ann, "Bea"));
  ExpectError(ann.Post(base + "/memories", {{"content", std::string(2001, 'a')}}), 400, "invalid_argument");
  ExpectError(ann.Post(base + "/memories", {{"content", ""}}), 400, "invalid_argument");
  ExpectError(ann.Post(base + "/memories", json::object()), 400, "invalid_argument");
  ExpectError(ann.Post(base + "/memories", {{"message_id", 999999}}), 404, "not_found");
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(ann.Post(base + "/memories", {{"content", "fact " + std::to_string(i)}}).status, 201);
  auto over = ann.Post(base + "/memories", {{"content", "one too many"}});
  ExpectError(over, 400, "invalid_argument");
  EXPECT_NE(over.body.find("50 memories"), std::string::npos) << over.body;
  ExpectError(ann.Put(base + "/memories/order", {{"ids", "nope"}}), 400, "invalid_argument");
  // A draft is a query parameter: past the 16 KiB of request headers it is a 413.
  ExpectError(ann.Get(base + "/prompt?draft=" + std::string(17 * 1024, 'a')), 413, "too_large");
  ExpectError(ann.Get(base + "/prompt?draft=%FF"), 400, "invalid_argument");
}

TEST_F(MemoryApiTest, AnotherUserNeverSeesOrTouchesThem) {
  auto ann = User("ann3");
  auto ben = User("ben3");
  const int64_t conv = Conversation(ann, "Cleo");
  const std::string base = Base(conv);
  auto note = ann.Post(base + "/memories", {{"content", "Ann's secret: she is afraid of geese."}});
  ASSERT_EQ(note.status, 201);
  const std::string mid = std::to_string(note.json()["id"].get<int64_t>());
  ExpectError(ben.Get(base + "/memories"), 404, "not_found");
  ExpectError(ben.Post(base + "/memories", {{"content", "x"}}), 404, "not_found");
  ExpectError(ben.Patch(base + "/memories/" + mid, {{"content", "x"}}), 404, "not_found");
  ExpectError(ben.Delete(base + "/memories/" + mid), 404, "not_found");
  ExpectError(ben.Get(base + "/prompt?draft=geese"), 404, "not_found");
  ExpectError(ben.Get(base + "/export"), 404, "not_found");
  ExpectError(ben.Put(base + "/summary", {{"content", "x"}}), 404, "not_found");
  // Ben's own conversation with the same character: none of Ann's memory in his prompt.
  auto bconv = ben.Post("/api/conversations", {{"character_id", ann.Get(base).json()["character_id"]}});
  ASSERT_EQ(bconv.status, 201) << bconv.body;
  auto bp = ben.Get(Base(bconv.json()["id"].get<int64_t>()) + "/prompt?draft=geese%20secret");
  ASSERT_EQ(bp.status, 200);
  EXPECT_EQ(bp.body.find("afraid of geese"), std::string::npos);
  ExpectError(ben.Patch(Base(bconv.json()["id"].get<int64_t>()) + "/memories/" + mid, {{"content", "x"}}),
              404, "not_found");
  EXPECT_EQ(ann.Get(base + "/memories").json()["items"][0]["content"],
            "Ann's secret: she is afraid of geese.");
}

TEST_F(MemoryApiTest, ForgetAndExport) {
  auto ann = User("ann4");
  const int64_t conv = Conversation(ann, "Dana");
  const std::string base = Base(conv);
  auto sent = ann.Post(base + "/messages", {{"content", "Remember the lighthouse."}});
  ASSERT_EQ(sent.status, 201);
  const int64_t said = sent.json()["message"]["id"];
  ASSERT_EQ(ann.Post(base + "/memories", {{"content", "Likes lighthouses."}}).status, 201);
  EXPECT_EQ(ann.Post(base + "/messages/" + std::to_string(said) + "/forget", json::object()).status, 204);
  ExpectError(ann.Post(base + "/messages/999999/forget", json::object()), 404, "not_found");

  auto ex = ann.Get(base + "/export");
  ASSERT_EQ(ex.status, 200) << ex.body;
  EXPECT_NE(ex.headers["Content-Disposition"].find("attachment"), std::string::npos);
  auto j = ex.json();
  EXPECT_EQ(j["format"], "tokki-conversation");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["conversation"]["id"], conv);
  EXPECT_EQ(j["character"]["name"], "Dana");
  ASSERT_GE(j["messages"].size(), 3u);  // greeting, the message, the reply
  bool forgotten = false;
  for (auto& m : j["messages"])
    if (m["id"] == said) forgotten = m["forgotten"].get<bool>();
  EXPECT_TRUE(forgotten);
  ASSERT_EQ(j["memories"]["items"].size(), 1u);
  EXPECT_EQ(j["memories"]["items"][0]["content"], "Likes lighthouses.");

  // Deleting the (last) conversation deletes the relationship's memory.
  EXPECT_EQ(ann.Delete(base).status, 204);
  const int64_t again = ann.Post("/api/conversations", {{"character_id", j["character"]["id"]}})
                            .json()["id"]
                            .get<int64_t>();
  EXPECT_TRUE(ann.Get(Base(again) + "/memories").json()["items"].empty());
}

}  // namespace
}  // namespace tokki::testing
