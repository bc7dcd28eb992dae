// Checks the importer against real-world cards in ../shared/cards (skipped when absent):
// each file listed in MANIFEST.tsv imports with the expected name, format and lorebook
// size, and the files marked NEGATIVE are rejected with a message.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "persona/card.h"

namespace tokki::persona {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ManifestRow {
  std::string file, spec, name, notes;
  int lorebook_entries = 0;
};

std::vector<ManifestRow> ReadManifest(const fs::path& path) {
  std::vector<ManifestRow> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() < 8) continue;
    ManifestRow r;
    r.file = cols[0];
    r.spec = cols[4];
    r.name = cols[5];
    r.lorebook_entries = std::stoi(cols[6]);
    r.notes = cols[7];
    rows.push_back(r);
  }
  return rows;
}

// "v3_png" from the file extension and the highest "V<n>" in the spec column
// (no "V<n>" at all means a V1-like card).
std::string ExpectedFormat(const ManifestRow& r) {
  std::string container = fs::path(r.file).extension().string().substr(1);
  int version = 1;
  for (size_t i = 0; i + 1 < r.spec.size(); ++i)
    if (r.spec[i] == 'V' && r.spec[i + 1] >= '1' && r.spec[i + 1] <= '3')
      version = std::max(version, r.spec[i + 1] - '0');
  return "v" + std::to_string(version) + "_" + container;
}

size_t LorebookSize(const store::Character& c) {
  if (c.character_book_json.empty()) return 0;
  auto book = nlohmann::json::parse(c.character_book_json);
  if (!book.contains("entries") || !book["entries"].is_array()) return 0;
  return book["entries"].size();
}

TEST(CardConformance, SharedCardsMatchManifest) {
  // TOKKI_SHARED_CARDS overrides the default ../shared/cards.
  const char* env = std::getenv("TOKKI_SHARED_CARDS");
  fs::path dir = env != nullptr ? fs::path(env) : fs::path(TOKKI_SHARED_CARDS_DIR);
  if (!fs::exists(dir / "MANIFEST.tsv")) GTEST_SKIP() << "no shared cards at " << dir;
  auto rows = ReadManifest(dir / "MANIFEST.tsv");
  ASSERT_GE(rows.size(), 30u);
  int n_ok = 0, n_rejected = 0;
  for (const auto& r : rows) {
    SCOPED_TRACE(r.file);
    std::string bytes = ReadFile(dir / r.file);
    ASSERT_FALSE(bytes.empty());
    auto card = ImportCard(bytes, r.file);
    bool negative = r.notes.rfind("NEGATIVE", 0) == 0;
    if (negative) {
      ASSERT_FALSE(card.ok()) << "accepted a file marked invalid";
      EXPECT_EQ(card.status().code(), Status::Code::kInvalidArgument);
      EXPECT_NE(card.status().message().find(r.file), std::string::npos)
          << card.status().ToString();
      ++n_rejected;
      continue;
    }
    ASSERT_TRUE(card.ok()) << card.status().ToString();
    EXPECT_EQ(card->character.name, r.name);
    EXPECT_EQ(card->format, ExpectedFormat(r));
    EXPECT_EQ(LorebookSize(card->character), static_cast<size_t>(r.lorebook_entries));
    EXPECT_EQ(ValidateCharacter(card->character).ToString(), Status().ToString());
    if (r.file.ends_with(".png")) {
      ASSERT_TRUE(card->avatar.has_value());
      EXPECT_EQ(card->avatar->mime, "image/png");
      EXPECT_LT(card->avatar->bytes.size(), bytes.size());  // card text removed
    }
    if (r.file.ends_with(".charx")) {
      EXPECT_TRUE(card->avatar.has_value());
    }
    // Whatever was read must survive our own export and re-import.
    for (CardFormat f : {CardFormat::kJson, CardFormat::kPng, CardFormat::kCharx}) {
      auto out = ExportCard(card->character, card->avatar ? &*card->avatar : nullptr, f);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      auto again = ImportCard(*out);
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      EXPECT_EQ(again->character.name, card->character.name);
      EXPECT_EQ(again->character.description, card->character.description);
      EXPECT_EQ(again->character.character_book_json, card->character.character_book_json);
      EXPECT_EQ(again->character.extensions_json, card->character.extensions_json);
      EXPECT_EQ(again->character.alternate_greetings, card->character.alternate_greetings);
    }
    ++n_ok;
  }
  EXPECT_GT(n_ok, 0);
  EXPECT_GT(n_rejected, 0);
}

}  // namespace
}  // namespace tokki::persona
