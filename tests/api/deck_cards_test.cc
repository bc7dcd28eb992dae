// Deck, card import/export and the shipped catalog, over real HTTP.
#include <set>

#include "server_fixture.h"

namespace tokki::testing {
namespace {

using nlohmann::json;

class DeckApiTest : public ServerFixture {
 protected:
  // A creator publishes `n` public characters in two languages.
  std::vector<int64_t> Publish(int n) {
    auto creator = User("creator");
    std::vector<int64_t> ids;
    for (int i = 0; i < n; ++i) {
      auto r = creator.Post("/api/characters",
                            {{"name", "Deck Friend " + std::to_string(i)},
                             {"tagline", i % 2 ? "loves poetry" : "loves the sea"},
                             {"description", i % 2 ? "A poet of the mountains." : "A sailor of the seas."},
                             {"tags", {i % 2 ? "poetry" : "sea"}},
                             {"language", i % 3 == 0 ? "ko" : "en"},
                             {"real_person", i % 5 == 0},
                             {"first_mes", "Nice to meet you, {{user}}!"},
                             {"alternate_greetings", {"Oh, hello."}},
                             {"visibility", "public"}});
      EXPECT_EQ(r.status, 201) << r.body;
      ids.push_back(r.json()["id"]);
    }
    return ids;
  }
};

TEST_F(DeckApiTest, PassesNeverReturnLikesMakeFriendsUndoRestoresLastPass) {
  auto ids = Publish(12);
  auto u = User("swiper");
  auto deck = u.Get("/api/deck?limit=5");
  ASSERT_EQ(deck.status, 200) << deck.body;
  auto cards = deck.json()["cards"];
  ASSERT_EQ(cards.size(), 5u);
  int64_t passed = cards[0]["id"];
  int64_t liked = cards[1]["id"];
  EXPECT_EQ(u.Post("/api/deck/swipes", {{"character_id", passed}, {"action", "pass"}}).status, 201);
  auto like = u.Post("/api/deck/swipes", {{"character_id", liked}, {"action", "like"}});
  ASSERT_EQ(like.status, 201) << like.body;
  ASSERT_TRUE(like.json()["conversation_id"].is_number());
  EXPECT_EQ(like.json()["conversation"]["messages"][0]["content"], "Nice to meet you, swiper!");
  EXPECT_EQ(like.json()["conversation"]["messages"][0]["alternatives"], 2);
  // The very next deck already reflects both swipes.
  auto next = u.Get("/api/deck?limit=50").json()["cards"];
  std::set<int64_t> shown;
  for (auto& c : next) shown.insert(c["id"].get<int64_t>());
  EXPECT_FALSE(shown.count(passed));
  EXPECT_FALSE(shown.count(liked));
  EXPECT_EQ(shown.size(), 10u);
  // Swiping twice (a second device) is a conflict, not a second swipe.
  EXPECT_EQ(u.Post("/api/deck/swipes", {{"character_id", liked}, {"action", "pass"}}).status, 409);
  // Friends.
  auto friends = u.Get("/api/friends").json()["items"];
  ASSERT_EQ(friends.size(), 1u);
  EXPECT_EQ(friends[0]["character"]["id"], liked);
  EXPECT_EQ(friends[0]["last_message"]["content"], "Nice to meet you, swiper!");
  // Undo: the last swipe was a like, which stays.
  EXPECT_EQ(u.Post("/api/deck/undo", json::object()).status, 409);
  // Pass another, undo it: it may come back.
  int64_t second_pass = next[0]["id"];
  u.Post("/api/deck/swipes", {{"character_id", second_pass}, {"action", "pass"}});
  auto undo = u.Post("/api/deck/undo", json::object());
  ASSERT_EQ(undo.status, 200) << undo.body;
  EXPECT_EQ(undo.json()["character_id"], second_pass);
  auto after = u.Get("/api/deck?limit=50").json()["cards"];
  std::set<int64_t> again;
  for (auto& c : after) again.insert(c["id"].get<int64_t>());
  EXPECT_TRUE(again.count(second_pass));
  EXPECT_FALSE(again.count(passed));  // the older pass is permanent
}

TEST_F(DeckApiTest, FiltersAndOwnCharacters) {
  Publish(12);
  auto u = User("filterer");
  auto mine = u.Post("/api/characters", {{"name", "My Own"}, {"visibility", "public"}});
  auto ko = u.Get("/api/deck?limit=50&lang=ko").json()["cards"];
  ASSERT_FALSE(ko.empty());
  for (auto& c : ko) EXPECT_EQ(c["language"], "ko");
  auto poetry = u.Get("/api/deck?limit=50&tag=poetry").json()["cards"];
  ASSERT_FALSE(poetry.empty());
  for (auto& c : poetry) EXPECT_EQ(c["tags"][0], "poetry");
  auto no_real = u.Get("/api/deck?limit=50&real_people=0").json()["cards"];
  for (auto& c : no_real) EXPECT_FALSE(c["real_person"].get<bool>());
  auto all = u.Get("/api/deck?limit=50").json()["cards"];
  EXPECT_EQ(all.size(), 12u);
  for (auto& c : all) EXPECT_NE(c["id"], mine.json()["id"]);
  EXPECT_EQ(u.Post("/api/deck/swipes", {{"character_id", mine.json()["id"]}, {"action", "like"}}).status, 400);
  EXPECT_EQ(u.Post("/api/deck/swipes", {{"character_id", 987654}, {"action", "like"}}).status, 404);
  EXPECT_EQ(u.Post("/api/deck/swipes", {{"character_id", all[0]["id"]}, {"action", "maybe"}}).status, 400);
}

TEST_F(DeckApiTest, CardImportExportRoundTrip) {
  auto u = User("importer");
  json card{{"spec", "chara_card_v3"},
            {"spec_version", "3.0"},
            {"data",
             {{"name", "Captain Mireille"},
              {"description", "A sky-ship captain."},
              {"personality", "bold"},
              {"scenario", "On deck at dawn."},
              {"first_mes", "Welcome aboard, {{user}}."},
              {"mes_example", "<START>\n{{user}}: Hi\n{{char}}: Ahoy!"},
              {"creator_notes", "notes"},
              {"system_prompt", ""},
              {"post_history_instructions", ""},
              {"alternate_greetings", {"Storm ahead!"}},
              {"group_only_greetings", json::array()},
              {"tags", {"adventure"}},
              {"creator", "someone"},
              {"character_version", "2"},
              {"extensions", {{"custom_tool", {{"keep", "me"}}}}},
              {"character_book",
               {{"name", "Ship lore"},
                {"entries",
                 {{{"keys", {"airship"}}, {"content", "The ship is called Dawn."}, {"enabled", true},
                   {"insertion_order", 1}, {"use_regex", false}, {"extensions", json::object()}}}},
                {"extensions", json::object()}}}}}};
  auto imported = u.Request(http::verb::post, "/api/characters/import", card.dump(),
                            {{"Content-Type", "application/octet-stream"}, {"X-Filename", "mireille.json"}});
  ASSERT_EQ(imported.status, 201) << imported.body;
  auto id = std::to_string(imported.json()["id"].get<int64_t>());
  EXPECT_EQ(imported.json()["name"], "Captain Mireille");
  EXPECT_EQ(imported.json()["visibility"], "private");
  for (std::string fmt : {"json", "png", "charx"}) {
    auto file = u.Get("/api/characters/" + id + "/export?format=" + fmt);
    ASSERT_EQ(file.status, 200) << fmt << ": " << file.body.substr(0, 200);
    EXPECT_NE(file.headers["Content-Disposition"].find("attachment"), std::string::npos);
    auto again = u.Request(http::verb::post, "/api/characters/import", file.body,
                           {{"X-Filename", "again." + fmt}});
    ASSERT_EQ(again.status, 201) << fmt << ": " << again.body;
    EXPECT_EQ(again.json()["name"], "Captain Mireille");
    EXPECT_EQ(again.json()["alternate_greetings"][0], "Storm ahead!");
    auto exported_json = u.Get("/api/characters/" + std::to_string(again.json()["id"].get<int64_t>()) +
                               "/export?format=json").json();
    EXPECT_EQ(exported_json["data"]["extensions"]["custom_tool"]["keep"], "me") << fmt;
    EXPECT_EQ(exported_json["data"]["character_book"]["entries"][0]["content"], "The ship is called Dawn.") << fmt;
  }
  // Multipart upload works too.
  std::string boundary = "----tokkiboundary";
  std::string multipart = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.json\"\r\n"
                          "Content-Type: application/json\r\n\r\n" + card.dump() + "\r\n--" + boundary + "--\r\n";
  auto mp = u.Request(http::verb::post, "/api/characters/import", multipart,
                      {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
  EXPECT_EQ(mp.status, 201) << mp.body;
  // Another user cannot export a private character.
  auto other = User("snooper");
  EXPECT_EQ(other.Get("/api/characters/" + id + "/export?format=json").status, 404);
}

TEST_F(DeckApiTest, BrokenCardsAreRejectedAndNothingIsStored) {
  auto u = User("careful");
  auto before = u.Get("/api/characters?mine=1&limit=100").json()["items"].size();
  for (std::string bad : {std::string("not a card at all"), std::string("{\"spec\":\"chara_card_v2\"}"),
                          std::string("\x89PNG\r\n\x1a\n garbage"), std::string("{\"name\": 5}")}) {
    auto r = u.Request(http::verb::post, "/api/characters/import", bad, {{"X-Filename", "bad.bin"}});
    EXPECT_EQ(r.status / 100, 4) << r.body;
    EXPECT_TRUE(r.json()["error"]["message"].is_string()) << r.body;
  }
  EXPECT_EQ(u.Get("/api/characters?mine=1&limit=100").json()["items"].size(), before);
}

class CatalogApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    catalog_dir_ = "";  // the catalog next to the program
    StartServer();
  }
};

TEST_F(CatalogApiTest, CatalogLoadsOnAFreshStartWithLabelsAndAvatars) {
  auto c = Client();
  size_t total = 0, real = 0;
  std::map<std::string, int> langs;
  std::string cursor;
  for (int page = 0; page < 20; ++page) {
    auto r = c.Get("/api/characters?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200);
    auto page_json = r.json();
    for (auto& ch : page_json["items"]) {
      ++total;
      langs[ch["language"]]++;
      if (ch["real_person"].get<bool>()) {
        ++real;
        EXPECT_EQ(ch["label"], "AI portrayal — not the real person");
      }
      EXPECT_TRUE(ch["avatar_url"].is_string());
    }
    if (page_json["next_cursor"].is_null()) break;
    cursor = page_json["next_cursor"];
  }
  EXPECT_GE(total, 100u);
  EXPECT_GE(real, 40u);
  EXPECT_GE(total - real, 60u);
  EXPECT_GE(langs["ko"], 20);
  EXPECT_GE(langs["en"], 20);
  EXPECT_GE(langs["zh"], 20);
  auto avatar = c.Get("/api/characters/1/avatar");
  EXPECT_EQ(avatar.status, 200);
  EXPECT_EQ(avatar.headers["Content-Type"], "image/png");
  auto u = User("newcomer");
  EXPECT_EQ(u.Get("/api/deck?limit=10").json()["cards"].size(), 10u);
}

}  // namespace
}  // namespace tokki::testing
