#include "persona/card.h"

#include <nlohmann/json.hpp>

#include <exception>

#include "core/hash.h"
#include "persona/macros.h"
#include "core/text.h"
#include "persona/avatar.h"
#include "persona/base64.h"
#include "persona/card_json.h"
#include "persona/charx.h"
#include "persona/image.h"
#include "persona/png_io.h"

namespace tokki::persona {
namespace {

using internal::CardFromJson;
using internal::ParseJsonLimited;
using nlohmann::json;

constexpr std::string_view kCharxIconPath = "assets/icon/images/main";

std::string SniffImageMime(std::string_view bytes) {
  if (internal::LooksLikePng(bytes)) return "image/png";
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xFF\xD8\xFF") return "image/jpeg";
  if (bytes.size() >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP")
    return "image/webp";
  if (bytes.size() >= 6 && (bytes.substr(0, 6) == "GIF87a" || bytes.substr(0, 6) == "GIF89a"))
    return "image/gif";
  return "";
}

std::string ExtensionForMime(std::string_view mime) {
  if (mime == "image/jpeg") return "jpg";
  if (mime == "image/webp") return "webp";
  if (mime == "image/gif") return "gif";
  return "png";
}

Result<internal::ParsedCard> ParseCardText(std::string_view text, std::string_view what) {
  TOKKI_ASSIGN_OR_RETURN(json doc, ParseJsonLimited(text, what));
  return CardFromJson(doc);
}

// Decodes one card chunk: base64 of UTF-8 JSON (raw JSON is accepted with a warning).
Result<internal::ParsedCard> ParseChunk(const internal::PngText& chunk) {
  std::string what = "PNG '" + chunk.keyword + "' chunk";
  std::string_view text = Trim(chunk.text);
  if (!text.empty() && text.front() == '{') {
    TOKKI_ASSIGN_OR_RETURN(auto parsed, ParseCardText(text, what));
    parsed.warnings.push_back(what + " held plain JSON instead of base64");
    return parsed;
  }
  auto decoded = internal::Base64Decode(text);
  if (!decoded.has_value()) return Status::InvalidArgument(what + " is not valid base64");
  return ParseCardText(*decoded, what + " (decoded)");
}

Result<ImportedCard> ImportPng(std::string_view bytes) {
  TOKKI_ASSIGN_OR_RETURN(internal::PngInfo info, internal::ReadPng(bytes));
  const internal::PngText* chara = nullptr;
  const internal::PngText* ccv3 = nullptr;
  for (const auto& t : info.texts) {
    std::string key = AsciiLower(t.keyword);
    if (key == "ccv3" && ccv3 == nullptr) ccv3 = &t;
    if (key == "chara" && chara == nullptr) chara = &t;
  }
  if (chara == nullptr && ccv3 == nullptr)
    return Status::InvalidArgument(
        "not a character card: the PNG has no 'chara' or 'ccv3' text chunk");
  ImportedCard out;
  Result<internal::ParsedCard> parsed = Status::InvalidArgument("no card chunk");
  if (ccv3 != nullptr) {
    parsed = ParseChunk(*ccv3);
    if (!parsed.ok() && chara != nullptr) {
      out.warnings.push_back("the 'ccv3' chunk was unusable (" + parsed.status().message() +
                             "); read the 'chara' chunk instead");
      parsed = ParseChunk(*chara);
    }
  } else {
    parsed = ParseChunk(*chara);
  }
  if (!parsed.ok()) return parsed.status();
  out.character = std::move(parsed->character);
  out.format = "v" + std::to_string(parsed->spec_version) + "_png";
  for (auto& w : parsed->warnings) out.warnings.push_back(std::move(w));
  out.avatar = store::Avatar{"image/png", internal::StripPngText(bytes)};
  out.character.has_avatar = true;
  return out;
}

// Picks the icon asset: type "icon" named "main" first, else the first icon.
std::optional<std::string> FindIconPath(const std::string& assets_json) {
  if (assets_json.empty()) return std::nullopt;
  json assets = json::parse(assets_json, nullptr, false);
  if (assets.is_discarded() || !assets.is_array()) return std::nullopt;
  const json* best = nullptr;
  for (const auto& a : assets) {
    if (!a.is_object() || a.value("type", "") != "icon") continue;
    if (best == nullptr || (a.value("name", "") == "main" && best->value("name", "") != "main"))
      best = &a;
  }
  if (best == nullptr) return std::nullopt;
  std::string uri = best->value("uri", "");
  for (std::string_view prefix : {"embeded://", "embedded://", "__asset:"}) {
    if (uri.rfind(prefix, 0) == 0) {
      std::string path = uri.substr(prefix.size());
      while (!path.empty() && path.front() == '/') path.erase(0, 1);
      return path;
    }
  }
  return std::nullopt;
}

Result<ImportedCard> ImportCharx(std::string_view bytes) {
  TOKKI_ASSIGN_OR_RETURN(auto reader, internal::CharxReader::Open(bytes));
  if (!reader->Has("card.json"))
    return Status::InvalidArgument("not a character card: the CHARX has no card.json at its root");
  TOKKI_ASSIGN_OR_RETURN(std::string card_text, reader->Read("card.json"));
  TOKKI_ASSIGN_OR_RETURN(auto parsed, ParseCardText(card_text, "CHARX card.json"));
  ImportedCard out;
  out.character = std::move(parsed.character);
  out.format = "v" + std::to_string(parsed.spec_version) + "_charx";
  out.warnings = std::move(parsed.warnings);
  if (auto icon = FindIconPath(out.character.assets_json); icon.has_value()) {
    if (!reader->Has(*icon)) {
      out.warnings.push_back("icon asset '" + *icon + "' is missing from the CHARX");
    } else {
      TOKKI_ASSIGN_OR_RETURN(std::string image, reader->Read(*icon));
      std::string mime = SniffImageMime(image);
      if (mime == "image/png") {
        if (internal::ReadPng(image).ok()) {
          out.avatar = store::Avatar{mime, internal::StripPngText(image)};
        } else {
          out.warnings.push_back("icon asset '" + *icon + "' is a broken PNG; no avatar");
        }
      } else if (!mime.empty()) {
        out.avatar = store::Avatar{mime, std::move(image)};
      } else {
        out.warnings.push_back("icon asset '" + *icon + "' is not a PNG/JPEG/WebP/GIF image");
      }
    }
  }
  size_t n_other = 0;
  for (const auto& name : reader->names())
    if (name != "card.json" && name.back() != '/') ++n_other;
  if (n_other > (out.avatar.has_value() ? 1u : 0u))
    out.warnings.push_back("embedded assets other than the icon are not kept");
  out.character.has_avatar = out.avatar.has_value();
  return out;
}

Result<ImportedCard> ImportAny(std::string_view bytes) {
  if (bytes.size() > kMaxCardFileBytes)
    return Status::TooLarge("card file is " + std::to_string(bytes.size()) +
                            " bytes; the limit is " + std::to_string(kMaxCardFileBytes));
  if (bytes.empty()) return Status::InvalidArgument("empty file");
  if (internal::LooksLikePng(bytes)) return ImportPng(bytes);
  if (internal::LooksLikeZip(bytes)) return ImportCharx(bytes);
  std::string_view text = bytes;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  std::string_view trimmed = Trim(text);
  if (trimmed.empty() || trimmed.front() != '{')
    return Status::InvalidArgument(
        "not a character card: expected a PNG, a JSON object or a CHARX (zip) file");
  TOKKI_ASSIGN_OR_RETURN(auto parsed, ParseCardText(text, "card JSON"));
  ImportedCard out;
  out.character = std::move(parsed.character);
  out.format = "v" + std::to_string(parsed.spec_version) + "_json";
  out.warnings = std::move(parsed.warnings);
  return out;
}

uint64_t HashName(std::string_view s) { return Fnv1a64(s, kPersonaHashSeed); }

// The placeholder image: the card's own avatar style when it has one (catalog cards),
// else palette and motif picked from the name.
std::string PlaceholderPng(const store::Character& c) {
  static const Palette kPalettes[] = {{0xFF9A8B, 0x6A82FB}, {0x43CEA2, 0x185A9D},
                                      {0xF7971E, 0xFFD200}, {0x8E2DE2, 0x4A00E0},
                                      {0xEE9CA7, 0xFFDDE1}, {0x11998E, 0x38EF7D}};
  uint64_t h = HashName(c.name);
  Palette palette = kPalettes[h % std::size(kPalettes)];
  std::string motif(KnownMotifs()[(h >> 8) % KnownMotifs().size()]);
  json ext = json::parse(c.extensions_json, nullptr, false);
  if (!ext.is_discarded() && ext.is_object() && ext.contains("tokki") && ext["tokki"].is_object()) {
    const json& avatar = ext["tokki"].value("avatar", json::object());
    if (avatar.is_object()) {
      if (avatar.contains("motif") && avatar["motif"].is_string()) motif = avatar["motif"];
      const json& pal = avatar.value("palette", json::array());
      if (pal.is_array() && pal.size() == 2 && pal[0].is_string() && pal[1].is_string()) {
        auto a = ParseHexColor(pal[0].get<std::string>());
        auto b = ParseHexColor(pal[1].get<std::string>());
        if (a && b) palette = {*a, *b};
      }
    }
  }
  return RenderAvatarPng(c.name, palette, motif, 256);
}

// Assets array for an export, with the icon pointed at `icon_uri` (added when missing).
// With an empty `icon_uri`, embedded assets whose data Tokki does not hold are dropped.
json AssetsForExport(const store::Character& c, const std::string& icon_uri,
                     const std::string& icon_ext, bool drop_embedded) {
  json assets = json::array();
  if (!c.assets_json.empty()) {
    json a = json::parse(c.assets_json, nullptr, false);
    if (!a.is_discarded() && a.is_array()) assets = std::move(a);
  }
  json out = json::array();
  bool have_icon = false;
  for (auto& a : assets) {
    if (!a.is_object()) continue;
    bool is_main_icon = a.value("type", "") == "icon" && !have_icon &&
                        (a.value("name", "") == "main" || a.value("name", "").empty());
    std::string uri = a.value("uri", "");
    bool embedded = uri.rfind("embeded://", 0) == 0 || uri.rfind("embedded://", 0) == 0;
    if (is_main_icon && !icon_uri.empty()) {
      a["uri"] = icon_uri;
      a["ext"] = icon_ext;
      have_icon = true;
    } else if (drop_embedded && embedded) {
      continue;
    }
    out.push_back(std::move(a));
  }
  if (!have_icon && !icon_uri.empty()) {
    out.insert(out.begin(),
               json{{"type", "icon"}, {"uri", icon_uri}, {"name", "main"}, {"ext", icon_ext}});
  }
  return out;
}

// The card image: the avatar's own PNG when it reads cleanly (its image chunks are copied
// by PngImageWithText, not re-encoded), a JPEG/WebP avatar converted, else the placeholder.
std::string CardImagePng(const store::Character& c, const store::Avatar* avatar) {
  if (avatar != nullptr && internal::LooksLikePng(avatar->bytes)) {
    if (internal::ReadPng(avatar->bytes).ok()) return avatar->bytes;
  } else if (avatar != nullptr && !avatar->bytes.empty()) {
    if (auto converted = SanitizeImage(avatar->bytes); converted.ok())
      return std::move(converted->bytes);
  }
  return PlaceholderPng(c);
}

Result<std::string> ExportPng(const store::Character& c, const store::Avatar* avatar) {
  std::string image = CardImagePng(c, avatar);
  if (image.empty()) return Status::Internal("could not render the placeholder avatar");
  json v3 = internal::CardToJson(c, 3, AssetsForExport(c, "ccdefault:", "png", true));
  json v2 = internal::CardToJson(c, 2);
  std::vector<internal::PngText> texts = {
      {"chara", internal::Base64Encode(internal::DumpJson(v2))},
      {"ccv3", internal::Base64Encode(internal::DumpJson(v3))},
  };
  return internal::PngImageWithText(image, texts);
}

Result<std::string> ExportCharx(const store::Character& c, const store::Avatar* avatar) {
  std::vector<std::pair<std::string, std::string>> files;
  std::string icon_uri, ext;
  if (avatar != nullptr && !avatar->bytes.empty()) {
    std::string mime = SniffImageMime(avatar->bytes);
    if (mime.empty()) mime = avatar->mime;
    ext = ExtensionForMime(mime);
    std::string path = std::string(kCharxIconPath) + "." + ext;
    icon_uri = "embeded://" + path;
    files.emplace_back(path, avatar->bytes);
  }
  json card = internal::CardToJson(c, 3, AssetsForExport(c, icon_uri, ext, true));
  files.insert(files.begin(), {"card.json", internal::DumpJson(card, 2)});
  return internal::WriteZip(files);
}

}  // namespace

Result<ImportedCard> ImportCard(std::string_view bytes, std::string_view filename_hint) {
  Result<ImportedCard> result = Status::Internal("unreachable");
  try {
    result = ImportAny(bytes);
  } catch (const std::bad_alloc&) {
    result = Status::TooLarge("card needs too much memory to read");
  } catch (const std::exception& e) {
    result = Status::InvalidArgument(std::string("card could not be read: ") + e.what());
  }
  if (!result.ok() && !filename_hint.empty())
    return result.status().WithContext(std::string(filename_hint));
  return result;
}

Result<std::string> ExportCard(const store::Character& character, const store::Avatar* avatar,
                               CardFormat format) {
  TOKKI_RETURN_IF_ERROR(ValidateCharacter(character));
  try {
    switch (format) {
      case CardFormat::kJson:
        return internal::DumpJson(internal::CardToJson(character, 3), 2);
      case CardFormat::kPng:
        return ExportPng(character, avatar);
      case CardFormat::kCharx:
        return ExportCharx(character, avatar);
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("card export failed: ") + e.what());
  }
  return Status::InvalidArgument("unknown card format");
}

Status ValidateCharacter(const store::Character& character) {
  TOKKI_RETURN_IF_ERROR(internal::CheckCharacterLimits(character));
  try {
    return internal::CheckJsonFields(character);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("character JSON fields are invalid: ") + e.what());
  }
}

}  // namespace tokki::persona
