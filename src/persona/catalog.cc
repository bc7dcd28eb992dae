#include "persona/catalog.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "persona/avatar.h"
#include "persona/card.h"

namespace tokki::persona {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool IsSlug(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

Result<std::string> ReadSmallFile(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return Status::NotFound(path.string() + ": " + ec.message());
  if (size > kMaxCardFileBytes) return Status::TooLarge(path.string() + ": file too large");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path.string() + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<CatalogEntry> LoadOne(const fs::path& path, const std::string& folder_lang) {
  TOKKI_ASSIGN_OR_RETURN(std::string bytes, ReadSmallFile(path));
  TOKKI_ASSIGN_OR_RETURN(ImportedCard card, ImportCard(bytes, path.string()));
  Status valid = ValidateCharacter(card.character);
  if (!valid.ok()) return valid.WithContext(path.string());
  json ext = json::parse(card.character.extensions_json, nullptr, false);
  const json* tokki = nullptr;
  if (ext.is_object() && ext.contains("tokki") && ext["tokki"].is_object()) tokki = &ext["tokki"];
  if (tokki == nullptr) return Status::InvalidArgument(path.string() + ": no extensions.tokki");
  CatalogEntry entry;
  entry.slug = tokki->value("id", "");
  if (!IsSlug(entry.slug))
    return Status::InvalidArgument(path.string() + ": extensions.tokki.id '" + entry.slug +
                                   "' is not a slug (a-z, 0-9, '-')");
  if (card.character.language != folder_lang)
    return Status::InvalidArgument(path.string() + ": language '" + card.character.language +
                                   "' does not match its folder '" + folder_lang + "'");
  Palette palette = {0x6A82FB, 0xFC5C7D};
  std::string motif;
  if (auto a = tokki->find("avatar"); a != tokki->end() && a->is_object()) {
    motif = a->value("motif", "");
    auto pal = a->find("palette");
    if (pal == a->end() || !pal->is_array() || pal->size() != 2 || !(*pal)[0].is_string() ||
        !(*pal)[1].is_string())
      return Status::InvalidArgument(path.string() + ": avatar.palette must be two colours");
    auto c0 = ParseHexColor((*pal)[0].get<std::string>());
    auto c1 = ParseHexColor((*pal)[1].get<std::string>());
    if (!c0 || !c1)
      return Status::InvalidArgument(path.string() + ": avatar.palette has a bad colour");
    palette = {*c0, *c1};
  } else {
    return Status::InvalidArgument(path.string() + ": no extensions.tokki.avatar");
  }
  entry.character = std::move(card.character);
  entry.character.owner_id = kNoId;
  entry.character.visibility = store::Visibility::kPublic;
  entry.character.has_avatar = true;
  entry.avatar.mime = "image/png";
  entry.avatar.bytes = RenderAvatarPng(entry.slug, palette, motif);
  if (entry.avatar.bytes.empty())
    return Status::Internal(path.string() + ": avatar rendering failed");
  return entry;
}

}  // namespace

Result<std::vector<CatalogEntry>> LoadCatalog(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::NotFound("catalog folder " + dir.string() + " does not exist");
  std::vector<fs::path> lang_dirs;
  for (const auto& d : fs::directory_iterator(dir, ec))
    if (d.is_directory()) lang_dirs.push_back(d.path());
  if (ec) return Status::Internal("cannot list " + dir.string() + ": " + ec.message());
  std::sort(lang_dirs.begin(), lang_dirs.end());
  std::vector<CatalogEntry> out;
  std::set<std::string> slugs;
  for (const auto& lang_dir : lang_dirs) {
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(lang_dir, ec))
      if (f.is_regular_file() && f.path().extension() == ".json") files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      TOKKI_ASSIGN_OR_RETURN(CatalogEntry entry, LoadOne(f, lang_dir.filename().string()));
      if (!slugs.insert(entry.slug).second)
        return Status::InvalidArgument(f.string() + ": duplicate slug '" + entry.slug + "'");
      out.push_back(std::move(entry));
    }
  }
  return out;
}

}  // namespace tokki::persona
