#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "persona/avatar.h"
#include "persona/card.h"
#include "persona/catalog.h"
#include "persona/png_io.h"

namespace tokki::persona {
namespace {

namespace fs = std::filesystem;

TEST(Avatar, DeterministicDistinctValidPng) {
  Palette p = {0x1b3a5c, 0xf2c14e};
  std::string a = RenderAvatarPng("aria-vale", p, "wave");
  EXPECT_EQ(a, RenderAvatarPng("aria-vale", p, "wave"));
  auto img = internal::DecodePngRgba(a);
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->width, 256u);
  EXPECT_EQ(img->height, 256u);
  // Other seed, motif or palette: other image.
  EXPECT_NE(a, RenderAvatarPng("boris", p, "wave"));
  EXPECT_NE(a, RenderAvatarPng("aria-vale", p, "star"));
  EXPECT_NE(a, RenderAvatarPng("aria-vale", {0x000000, 0xffffff}, "wave"));
  // Every motif draws something: the centre differs from the corner colour scheme.
  for (auto motif : KnownMotifs()) {
    auto png = RenderAvatarPng("x", p, motif, 64);
    auto d = internal::DecodePngRgba(png);
    ASSERT_TRUE(d.ok()) << motif;
    int n_light = 0;
    for (size_t i = 0; i < d->pixels.size(); i += 4)
      n_light += d->pixels[i] > 225 && d->pixels[i + 1] > 225 && d->pixels[i + 2] > 225;
    EXPECT_GT(n_light, 64 * 64 / 100) << motif;
  }
  // Unknown motif still renders; size is clamped.
  EXPECT_FALSE(RenderAvatarPng("x", p, "spaceship").empty());
  EXPECT_EQ(internal::DecodePngRgba(RenderAvatarPng("x", p, "star", 5000))->width, 1024u);
  EXPECT_EQ(ParseHexColor("#1b3A5c"), 0x1b3a5cu);
  EXPECT_EQ(ParseHexColor("fff"), 0xffffffu);
  EXPECT_FALSE(ParseHexColor("#12345g").has_value());
}

void WriteFile(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string CatalogCard(const std::string& slug, const std::string& lang, bool real) {
  nlohmann::json doc = {
      {"spec", "chara_card_v3"},
      {"spec_version", "3.0"},
      {"data",
       {{"name", "Name " + slug},
        {"description", "desc"},
        {"first_mes", "hi"},
        {"tags", {"a"}},
        {"extensions",
         {{"tokki",
           {{"id", slug},
            {"tagline", "tag " + slug},
            {"language", lang},
            {"real_person", real},
            {"avatar",
             {{"emoji", "⭐"}, {"palette", {"#112233", "#ddeeff"}}, {"motif", "star"}}}}}}}}}};
  return doc.dump();
}

TEST(Catalog, LoadsTemporaryCatalog) {
  fs::path dir = fs::temp_directory_path() / ("tokki_catalog_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  WriteFile(dir / "en" / "b-one.json", CatalogCard("b-one", "en", false));
  WriteFile(dir / "en" / "a-two.json", CatalogCard("a-two", "en", true));
  WriteFile(dir / "ko" / "c-three.json", CatalogCard("c-three", "ko", false));
  WriteFile(dir / "ko" / "notes.txt", "ignored");
  auto cat = LoadCatalog(dir);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  ASSERT_EQ(cat->size(), 3u);
  EXPECT_EQ((*cat)[0].slug, "a-two");
  EXPECT_TRUE((*cat)[0].character.real_person);
  EXPECT_EQ((*cat)[0].character.tagline, "tag a-two");
  EXPECT_EQ((*cat)[0].character.visibility, store::Visibility::kPublic);
  EXPECT_TRUE((*cat)[0].character.has_avatar);
  EXPECT_EQ((*cat)[0].avatar.mime, "image/png");
  EXPECT_EQ((*cat)[0].avatar.bytes, RenderAvatarPng("a-two", {0x112233, 0xddeeff}, "star"));
  EXPECT_EQ((*cat)[2].character.language, "ko");
  // Language must match the folder; slugs must be unique and well-formed.
  WriteFile(dir / "zh" / "d.json", CatalogCard("d-four", "en", false));
  auto bad = LoadCatalog(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("d.json"), std::string::npos);
  fs::remove(dir / "zh" / "d.json");
  WriteFile(dir / "zh" / "e.json", CatalogCard("a-two", "zh", false));
  EXPECT_NE(LoadCatalog(dir).status().message().find("duplicate slug"), std::string::npos);
  fs::remove(dir / "zh" / "e.json");
  WriteFile(dir / "zh" / "f.json", CatalogCard("Bad Slug", "zh", false));
  EXPECT_FALSE(LoadCatalog(dir).ok());
  fs::remove_all(dir);
  EXPECT_TRUE(LoadCatalog(dir).status().IsNotFound());
}

// The shipped catalog (another part of the tree): every card loads and the mix is right.
TEST(Catalog, ShippedCatalogCounts) {
  const char* env = std::getenv("TOKKI_CATALOG_DIR");
  fs::path dir = env != nullptr ? fs::path(env) : fs::path(TOKKI_CATALOG_DIR);
  size_t n_files = 0;
  if (fs::is_directory(dir))
    for (const auto& f : fs::recursive_directory_iterator(dir))
      n_files += f.is_regular_file() && f.path().extension() == ".json";
  if (n_files < 100)
    GTEST_SKIP() << "catalog at " << dir << " has " << n_files
                 << " cards; the counts are checked once it has at least 100";
  auto cat = LoadCatalog(dir);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  std::map<std::string, int> per_lang;
  int n_real = 0, n_original = 0;
  for (const auto& e : *cat) {
    EXPECT_TRUE(ValidateCharacter(e.character).ok()) << e.slug;
    EXPECT_FALSE(e.character.tagline.empty()) << e.slug;
    EXPECT_FALSE(e.avatar.bytes.empty()) << e.slug;
    ++per_lang[e.character.language];
    (e.character.real_person ? n_real : n_original)++;
  }
  EXPECT_GE(cat->size(), 100u);
  EXPECT_GE(n_real, 40);
  EXPECT_GE(n_original, 60);
  for (const char* lang : {"ko", "en", "zh"}) EXPECT_GE(per_lang[lang], 20) << lang;
}

}  // namespace
}  // namespace tokki::persona
