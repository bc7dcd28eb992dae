#include "persona/card_json.h"

#include <cmath>
#include <utility>

#include "core/text.h"
#include "persona/card.h"

namespace tokki::persona::internal {
namespace {

using nlohmann::json;

// Deepest nesting of objects/arrays in `text`, ignoring brackets inside strings.
int JsonDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      max_depth = std::max(max_depth, ++depth);
    else if (c == '}' || c == ']')
      --depth;
  }
  return max_depth;
}

class Mapper {
 public:
  Mapper(const json& obj, std::string prefix, std::vector<std::string>* warnings)
      : obj_(obj), prefix_(std::move(prefix)), warnings_(warnings) {}

  // Absent or null leaves `out` untouched.
  Status String(const char* key, std::string* out, const char* alias = nullptr) {
    const json* v = Find(key, alias);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (v->is_string()) {
      *out = v->get<std::string>();
      return Status::Ok();
    }
    if (v->is_number() && std::string_view(key) == "character_version") {
      *out = v->dump();
      return Status::Ok();
    }
    return Status::InvalidArgument("field '" + prefix_ + key + "' must be a string, not " +
                                   v->type_name());
  }

  Status StringList(const char* key, std::vector<std::string>* out, const char* alias = nullptr) {
    const json* v = Find(key, alias);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (v->is_string()) {
      // Seen in the wild: a list stored as its JSON text, or comma-separated.
      std::string s = v->get<std::string>();
      out->clear();
      json inner = JsonDepth(s) <= kMaxJsonDepth ? json::parse(s, nullptr, false) : json();
      if (!inner.is_discarded() && inner.is_array() &&
          std::all_of(inner.begin(), inner.end(), [](const json& x) { return x.is_string(); })) {
        for (const auto& x : inner) out->push_back(x.get<std::string>());
      } else {
        *out = SplitTrimmed(s, ',');
      }
      warnings_->push_back("field '" + prefix_ + key + "' was a string; read as a list");
      return Status::Ok();
    }
    if (!v->is_array())
      return Status::InvalidArgument("field '" + prefix_ + key +
                                     "' must be a list of strings, not " + v->type_name());
    out->clear();
    for (const auto& x : *v) {
      if (!x.is_string())
        return Status::InvalidArgument("field '" + prefix_ + key +
                                       "' must contain only strings, found " + x.type_name());
      out->push_back(x.get<std::string>());
    }
    return Status::Ok();
  }

  Status Date(const char* key, int64_t* out) {
    const json* v = Find(key, nullptr);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (!v->is_number()) {
      warnings_->push_back("field '" + prefix_ + key + "' is not a number; ignored");
      return Status::Ok();
    }
    double d = v->get<double>();
    if (!std::isfinite(d) || d < 0 || d > 1e15) {
      warnings_->push_back("field '" + prefix_ + key + "' is out of range; ignored");
      return Status::Ok();
    }
    if (d > 1e11) {  // milliseconds, not seconds
      d /= 1000;
      warnings_->push_back("field '" + prefix_ + key + "' was in milliseconds; converted");
    }
    *out = static_cast<int64_t>(d);
    return Status::Ok();
  }

  const json* Find(const char* key, const char* alias) {
    auto it = obj_.find(key);
    if (it != obj_.end()) return &*it;
    if (alias != nullptr) {
      it = obj_.find(alias);
      if (it != obj_.end()) {
        warnings_->push_back(std::string("non-standard key '") + alias + "' read as '" + key + "'");
        return &*it;
      }
    }
    return nullptr;
  }

 private:
  const json& obj_;
  std::string prefix_;
  std::vector<std::string>* warnings_;
};

Status CheckLorebook(const json& book) {
  if (!book.is_object()) return Status::InvalidArgument("character_book must be an object");
  auto entries = book.find("entries");
  if (entries == book.end() || entries->is_null()) return Status::Ok();
  if (!entries->is_array()) return Status::InvalidArgument("character_book.entries must be a list");
  size_t i = 0;
  for (const auto& e : *entries) {
    std::string where = "character_book.entries[" + std::to_string(i++) + "]";
    if (!e.is_object()) return Status::InvalidArgument(where + " must be an object");
    for (const char* key : {"keys", "secondary_keys"}) {
      auto k = e.find(key);
      if (k == e.end() || k->is_null()) continue;
      if (!k->is_array()) return Status::InvalidArgument(where + "." + key + " must be a list");
      for (const auto& s : *k)
        if (!s.is_string())
          return Status::InvalidArgument(where + "." + key + " must contain only strings");
    }
    auto c = e.find("content");
    if (c != e.end() && !c->is_null() && !c->is_string())
      return Status::InvalidArgument(where + ".content must be a string");
  }
  return Status::Ok();
}

bool IsLanguageTag(std::string_view s) {
  if (s.size() < 2 || s.size() > 3) return false;
  for (char c : s)
    if (c < 'a' || c > 'z') return false;
  return true;
}

Status ReadTokki(json* extensions, store::Character* c, std::vector<std::string>* warnings) {
  auto it = extensions->find("tokki");
  if (it == extensions->end()) return Status::Ok();
  if (!it->is_object()) return Status::InvalidArgument("extensions.tokki must be an object");
  json& t = *it;
  if (auto v = t.find("tagline"); v != t.end()) {
    if (!v->is_string())
      return Status::InvalidArgument("extensions.tokki.tagline must be a string");
    c->tagline = v->get<std::string>();
    t.erase(v);
  }
  if (auto v = t.find("language"); v != t.end()) {
    if (!v->is_string())
      return Status::InvalidArgument("extensions.tokki.language must be a string");
    std::string lang = AsciiLower(v->get<std::string>());
    if (IsLanguageTag(lang)) {
      c->language = lang;
    } else {
      warnings->push_back("extensions.tokki.language '" + v->get<std::string>() +
                          "' is not a language tag; using 'en'");
    }
    t.erase(v);
  }
  if (auto v = t.find("real_person"); v != t.end()) {
    if (!v->is_boolean())
      return Status::InvalidArgument("extensions.tokki.real_person must be true or false");
    c->real_person = v->get<bool>();
    t.erase(v);
  }
  if (t.empty()) extensions->erase(it);
  return Status::Ok();
}

Status CheckField(std::string_view name, const std::string& value, size_t max_bytes) {
  if (value.size() > max_bytes)
    return Status::TooLarge("field '" + std::string(name) + "' is " + std::to_string(value.size()) +
                            " bytes; the limit is " + std::to_string(max_bytes));
  if (!IsValidUtf8(value))
    return Status::InvalidArgument("field '" + std::string(name) + "' is not valid UTF-8");
  return Status::Ok();
}

Status CheckList(std::string_view name, const std::vector<std::string>& items, size_t max_items,
                 size_t max_item_bytes) {
  if (items.size() > max_items)
    return Status::TooLarge("field '" + std::string(name) + "' has " +
                            std::to_string(items.size()) + " items; the limit is " +
                            std::to_string(max_items));
  for (const auto& s : items) TOKKI_RETURN_IF_ERROR(CheckField(name, s, max_item_bytes));
  return Status::Ok();
}

}  // namespace

std::string DumpJson(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

Result<json> ParseJsonLimited(std::string_view text, std::string_view what) {
  if (!IsValidUtf8(text)) return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
  if (JsonDepth(text) > kMaxJsonDepth)
    return Status::InvalidArgument(std::string(what) + " nests deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels");
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string(what) + " is not valid JSON (" + e.what() + ")");
  }
}

Status CheckCharacterLimits(const store::Character& c) {
  if (Trim(c.name).empty()) return Status::InvalidArgument("the character has no name");
  TOKKI_RETURN_IF_ERROR(CheckField("name", c.name, kMaxNameChars * 4));
  if (Utf8Length(c.name) > kMaxNameChars)
    return Status::TooLarge("field 'name' is longer than " + std::to_string(kMaxNameChars) +
                            " characters");
  const std::pair<const char*, const std::string*> short_fields[] = {
      {"nickname", &c.nickname},
      {"personality", &c.personality},
      {"scenario", &c.scenario},
      {"first_mes", &c.first_mes},
      {"creator_notes", &c.creator_notes},
      {"system_prompt", &c.system_prompt},
      {"post_history_instructions", &c.post_history_instructions},
      {"creator", &c.creator},
      {"character_version", &c.character_version},
      {"creator_notes_multilingual", &c.creator_notes_multilingual_json},
      {"tagline", &c.tagline},
  };
  for (const auto& [name, value] : short_fields)
    TOKKI_RETURN_IF_ERROR(CheckField(name, *value, kMaxTextFieldBytes));
  TOKKI_RETURN_IF_ERROR(CheckField("description", c.description, kMaxLongFieldBytes));
  TOKKI_RETURN_IF_ERROR(CheckField("mes_example", c.mes_example, kMaxLongFieldBytes));
  TOKKI_RETURN_IF_ERROR(CheckField("character_book", c.character_book_json, kMaxLongFieldBytes));
  TOKKI_RETURN_IF_ERROR(CheckField("extensions", c.extensions_json, kMaxExtensionsBytes));
  TOKKI_RETURN_IF_ERROR(CheckField("assets", c.assets_json, kMaxAssetsBytes));
  TOKKI_RETURN_IF_ERROR(
      CheckList("alternate_greetings", c.alternate_greetings, kMaxGreetings, kMaxTextFieldBytes));
  TOKKI_RETURN_IF_ERROR(
      CheckList("group_only_greetings", c.group_only_greetings, kMaxGreetings, kMaxTextFieldBytes));
  TOKKI_RETURN_IF_ERROR(CheckList("source", c.source, kMaxGreetings, kMaxTextFieldBytes));
  TOKKI_RETURN_IF_ERROR(CheckList("tags", c.tags, kMaxTags, kMaxTagBytes));
  if (!IsLanguageTag(c.language))
    return Status::InvalidArgument("language '" + c.language +
                                   "' is not a 2-3 letter lower-case language tag");
  return Status::Ok();
}

Status CheckJsonFields(const store::Character& c) {
  auto parse = [](const std::string& text, const char* what) -> Result<json> {
    return ParseJsonLimited(text, what);
  };
  {
    TOKKI_ASSIGN_OR_RETURN(
        json ext, parse(c.extensions_json.empty() ? "{}" : c.extensions_json, "extensions"));
    if (!ext.is_object()) return Status::InvalidArgument("extensions must be a JSON object");
  }
  if (!c.character_book_json.empty()) {
    TOKKI_ASSIGN_OR_RETURN(json book, parse(c.character_book_json, "character_book"));
    TOKKI_RETURN_IF_ERROR(CheckLorebook(book));
  }
  if (!c.assets_json.empty()) {
    TOKKI_ASSIGN_OR_RETURN(json assets, parse(c.assets_json, "assets"));
    if (!assets.is_array()) return Status::InvalidArgument("assets must be a JSON list");
  }
  if (!c.creator_notes_multilingual_json.empty()) {
    TOKKI_ASSIGN_OR_RETURN(json notes,
                           parse(c.creator_notes_multilingual_json, "creator_notes_multilingual"));
    if (!notes.is_object())
      return Status::InvalidArgument("creator_notes_multilingual must be a JSON object");
  }
  return Status::Ok();
}

Result<ParsedCard> CardFromJson(const json& doc) {
  if (!doc.is_object()) return Status::InvalidArgument("card JSON must be an object");
  ParsedCard out;
  store::Character& c = out.character;
  const json* data = &doc;
  std::string prefix;
  auto spec = doc.find("spec");
  if (spec != doc.end()) {
    if (!spec->is_string()) return Status::InvalidArgument("field 'spec' must be a string");
    std::string s = spec->get<std::string>();
    if (s == "chara_card_v2")
      out.spec_version = 2;
    else if (s == "chara_card_v3")
      out.spec_version = 3;
    else
      return Status::InvalidArgument("unsupported card spec '" + s + "'");
    auto d = doc.find("data");
    if (d == doc.end() || !d->is_object())
      return Status::InvalidArgument("card spec '" + s + "' without a 'data' object");
    data = &*d;
    prefix = "data.";
  } else if (doc.contains("data")) {
    return Status::InvalidArgument(
        "card has a 'data' object but no 'spec' field (expected chara_card_v2 or chara_card_v3)");
  } else {
    out.spec_version = 1;
    if (!doc.contains("name") && !doc.contains("char_name")) {
      if (doc.contains("entries"))
        return Status::InvalidArgument(
            "not a character card: this looks like a lorebook / World Info file (it has "
            "'entries' but no 'name')");
      return Status::InvalidArgument("not a character card: no 'name' field");
    }
  }
  const bool v1 = out.spec_version == 1;
  Mapper m(*data, prefix, &out.warnings);
  // Pygmalion-era files: char_name, char_persona, world_scenario, char_greeting,
  // example_dialogue.
  const bool pygmalion = v1 && !doc.contains("name") && doc.contains("char_name");
  TOKKI_RETURN_IF_ERROR(m.String("name", &c.name, pygmalion ? "char_name" : nullptr));
  if (pygmalion) {
    TOKKI_RETURN_IF_ERROR(m.String("description", &c.description, "char_persona"));
    TOKKI_RETURN_IF_ERROR(m.String("scenario", &c.scenario, "world_scenario"));
    TOKKI_RETURN_IF_ERROR(m.String("first_mes", &c.first_mes, "char_greeting"));
    TOKKI_RETURN_IF_ERROR(m.String("mes_example", &c.mes_example, "example_dialogue"));
  }
  if (Trim(c.name).empty())
    return Status::InvalidArgument("the card has no name ('" + prefix +
                                   "name' is missing or empty)");
  TOKKI_RETURN_IF_ERROR(m.String("description", &c.description));
  TOKKI_RETURN_IF_ERROR(m.String("personality", &c.personality));
  TOKKI_RETURN_IF_ERROR(m.String("scenario", &c.scenario));
  TOKKI_RETURN_IF_ERROR(m.String("first_mes", &c.first_mes, v1 ? "firstMessage" : nullptr));
  TOKKI_RETURN_IF_ERROR(m.String("mes_example", &c.mes_example, v1 ? "exampleMessages" : nullptr));
  if (v1 && c.mes_example.empty())
    TOKKI_RETURN_IF_ERROR(m.String("mes_example", &c.mes_example, "exampleDialogue"));
  TOKKI_RETURN_IF_ERROR(m.String("creator_notes", &c.creator_notes, v1 ? "creatorNotes" : nullptr));
  TOKKI_RETURN_IF_ERROR(m.String("system_prompt", &c.system_prompt, v1 ? "systemPrompt" : nullptr));
  TOKKI_RETURN_IF_ERROR(m.String("post_history_instructions", &c.post_history_instructions,
                                 v1 ? "postHistoryInstructions" : nullptr));
  TOKKI_RETURN_IF_ERROR(m.StringList("alternate_greetings", &c.alternate_greetings,
                                     v1 ? "alternateGreetings" : nullptr));
  TOKKI_RETURN_IF_ERROR(m.StringList("group_only_greetings", &c.group_only_greetings));
  TOKKI_RETURN_IF_ERROR(m.StringList("tags", &c.tags));
  TOKKI_RETURN_IF_ERROR(m.String("creator", &c.creator));
  TOKKI_RETURN_IF_ERROR(
      m.String("character_version", &c.character_version, v1 ? "characterVersion" : nullptr));
  TOKKI_RETURN_IF_ERROR(m.String("nickname", &c.nickname));
  TOKKI_RETURN_IF_ERROR(m.StringList("source", &c.source));
  TOKKI_RETURN_IF_ERROR(m.Date("creation_date", &c.creation_date));
  TOKKI_RETURN_IF_ERROR(m.Date("modification_date", &c.modification_date));

  if (const json* v = m.Find("creator_notes_multilingual", nullptr); v && !v->is_null()) {
    if (!v->is_object())
      return Status::InvalidArgument("field '" + prefix +
                                     "creator_notes_multilingual' must be an object");
    for (const auto& [lang, note] : v->items())
      if (!note.is_string())
        return Status::InvalidArgument("field '" + prefix + "creator_notes_multilingual." + lang +
                                       "' must be a string");
    c.creator_notes_multilingual_json = DumpJson(*v);
  }
  json extensions = json::object();
  if (const json* v = m.Find("extensions", nullptr); v && !v->is_null()) {
    if (!v->is_object())
      return Status::InvalidArgument("field '" + prefix + "extensions' must be an object");
    extensions = *v;
  }
  TOKKI_RETURN_IF_ERROR(ReadTokki(&extensions, &c, &out.warnings));
  c.extensions_json = DumpJson(extensions);
  if (const json* v = m.Find("character_book", nullptr); v && !v->is_null()) {
    Status st = CheckLorebook(*v);
    if (!st.ok()) return Status::InvalidArgument(prefix + st.message());
    c.character_book_json = DumpJson(*v);
  }
  if (const json* v = m.Find("assets", nullptr); v && !v->is_null()) {
    if (!v->is_array())
      return Status::InvalidArgument("field '" + prefix + "assets' must be a list");
    for (const auto& a : *v) {
      if (!a.is_object() || !a.contains("uri") || !a["uri"].is_string())
        return Status::InvalidArgument("field '" + prefix +
                                       "assets' must contain objects with a string 'uri'");
    }
    c.assets_json = DumpJson(*v);
  }

  // Fix-ups that keep a usable card instead of rejecting it.
  std::vector<std::string> tags;
  for (auto& t : c.tags) {
    std::string_view trimmed = Trim(t);
    if (trimmed.empty()) continue;
    if (trimmed.size() > kMaxTagBytes) {
      out.warnings.push_back("tag longer than " + std::to_string(kMaxTagBytes) + " bytes dropped");
      continue;
    }
    tags.emplace_back(trimmed);
  }
  if (tags.size() > kMaxTags) {
    out.warnings.push_back("only the first " + std::to_string(kMaxTags) + " of " +
                           std::to_string(tags.size()) + " tags kept");
    tags.resize(kMaxTags);
  }
  c.tags = std::move(tags);
  TOKKI_RETURN_IF_ERROR(CheckCharacterLimits(c));
  return out;
}

json CardToJson(const store::Character& c, int version, const std::optional<json>& assets) {
  json data = json::object();
  data["name"] = c.name;
  data["description"] = c.description;
  data["personality"] = c.personality;
  data["scenario"] = c.scenario;
  data["first_mes"] = c.first_mes;
  data["mes_example"] = c.mes_example;
  data["creator_notes"] = c.creator_notes;
  data["system_prompt"] = c.system_prompt;
  data["post_history_instructions"] = c.post_history_instructions;
  data["alternate_greetings"] = c.alternate_greetings;
  data["tags"] = c.tags;
  data["creator"] = c.creator;
  data["character_version"] = c.character_version;

  json extensions =
      json::parse(c.extensions_json.empty() ? "{}" : c.extensions_json, nullptr, false);
  if (extensions.is_discarded() || !extensions.is_object()) extensions = json::object();
  json& tokki = extensions["tokki"];
  if (!tokki.is_object()) tokki = json::object();
  tokki["tagline"] = c.tagline;
  tokki["language"] = c.language;
  tokki["real_person"] = c.real_person;
  data["extensions"] = std::move(extensions);

  if (!c.character_book_json.empty()) {
    json book = json::parse(c.character_book_json, nullptr, false);
    if (!book.is_discarded() && book.is_object()) data["character_book"] = std::move(book);
  }
  if (version >= 3) {
    data["group_only_greetings"] = c.group_only_greetings;
    if (!c.nickname.empty()) data["nickname"] = c.nickname;
    if (!c.source.empty()) data["source"] = c.source;
    if (!c.creator_notes_multilingual_json.empty()) {
      json notes = json::parse(c.creator_notes_multilingual_json, nullptr, false);
      if (!notes.is_discarded() && notes.is_object()) data["creator_notes_multilingual"] = notes;
    }
    if (assets.has_value()) {
      data["assets"] = *assets;
    } else if (!c.assets_json.empty()) {
      json a = json::parse(c.assets_json, nullptr, false);
      if (!a.is_discarded() && a.is_array()) data["assets"] = std::move(a);
    }
    if (c.creation_date != 0) data["creation_date"] = c.creation_date;
    if (c.modification_date != 0) data["modification_date"] = c.modification_date;
  }

  json doc = json::object();
  if (version >= 3) {
    doc["spec"] = "chara_card_v3";
    doc["spec_version"] = "3.0";
  } else {
    doc["spec"] = "chara_card_v2";
    doc["spec_version"] = "2.0";
    // V1 mirror fields, as SillyTavern writes them, for readers that predate V2.
    for (const char* key :
         {"name", "description", "personality", "scenario", "first_mes", "mes_example"})
      doc[key] = data[key];
    doc["tags"] = c.tags;
    doc["creator"] = c.creator;
  }
  doc["data"] = std::move(data);
  return doc;
}

}  // namespace tokki::persona::internal
