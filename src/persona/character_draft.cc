#include "persona/character_draft.h"

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace tokki::persona {

namespace {

struct Language {
  const char* code;
  const char* name;  // as the instructions name it
};
const Language kLanguages[] = {{"en", "English"}, {"ko", "Korean (한국어)"}, {"zh", "Chinese (中文)"}};

// Drops C0 control characters other than newline and tab: a JSON string may carry them
// as \u escapes, a character's text must not.
std::string WithoutControls(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\n' && c != '\t') continue;
    out += c;
  }
  return out;
}

// `value` cut to `max_chars` characters; InvalidArgument when it has fewer than
// `min_chars`. Cutting, not refusing: the schema bounds what the model writes, but bytes
// that were not UTF-8 become one U+FFFD each, so a value can come out a little longer.
Result<std::string> Bounded(std::string value, const char* name, size_t min_chars, size_t max_chars) {
  size_t chars = 0, end = 0;
  while (end < value.size() && chars < max_chars) {
    ++end;
    while (end < value.size() && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) ++end;
    ++chars;
  }
  value.resize(end);
  if (chars < min_chars)
    return Status::InvalidArgument(std::string("the draft's ") + name + " has " +
                                   std::to_string(chars) + " characters (at least " +
                                   std::to_string(min_chars) + " needed)");
  return value;
}

}  // namespace

const std::vector<DraftField>& DraftFields() {
  static const std::vector<DraftField> kFields = {
      {"name", &CharacterDraft::name, 1, 40, "the character's name"},
      {"tagline", &CharacterDraft::tagline, 1, 120, "one catchy line that sums them up"},
      {"description", &CharacterDraft::description, 1, 600,
       "who they are: appearance, background, what they do"},
      {"personality", &CharacterDraft::personality, 1, 400, "how they think, talk and behave"},
      {"scenario", &CharacterDraft::scenario, 1, 400, "the situation in which the user meets them"},
      {"greeting", &CharacterDraft::first_mes, 1, 400,
       "the character's first message to the user, written in character"},
      {"example_dialogue", &CharacterDraft::mes_example, 1, 600,
       "two or three short exchanges, each line starting with {{user}}: or {{char}}:"},
  };
  return kFields;
}

const std::vector<std::string>& DraftLanguages() {
  static const std::vector<std::string> kCodes = [] {
    std::vector<std::string> codes;
    for (const Language& l : kLanguages) codes.emplace_back(l.code);
    return codes;
  }();
  return kCodes;
}

Status CheckDraftRequest(std::string_view idea, std::string_view language) {
  if (!IsValidUtf8(idea)) return Status::InvalidArgument("idea is not valid UTF-8");
  if (idea.find('\0') != std::string_view::npos)
    return Status::InvalidArgument("idea must not contain NUL characters");
  if (Trim(idea).empty()) return Status::InvalidArgument("idea must not be empty");
  if (Utf8Length(idea) > kMaxDraftIdeaChars)
    return Status::InvalidArgument("idea is over " + std::to_string(kMaxDraftIdeaChars) +
                                   " characters");
  for (const Language& l : kLanguages)
    if (language == l.code) return Status::Ok();
  return Status::InvalidArgument("language must be one of en, ko, zh");
}

const std::string& DraftSchema() {
  static const std::string kSchema = [] {
    // ordered_json: the model writes the fields in table order (the name first).
    nlohmann::ordered_json props = nlohmann::ordered_json::object();
    nlohmann::ordered_json required = nlohmann::ordered_json::array();
    for (const DraftField& f : DraftFields()) {
      props[f.json_name] = {{"type", "string"}, {"minLength", f.min_chars}, {"maxLength", f.max_chars}};
      required.push_back(f.json_name);
    }
    props["tags"] = {{"type", "array"},
                     {"items", {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxDraftTagChars}}},
                     {"minItems", kMinDraftTags},
                     {"maxItems", kMaxDraftTags}};
    required.push_back("tags");
    nlohmann::ordered_json schema = {{"type", "object"},
                                     {"properties", std::move(props)},
                                     {"required", std::move(required)},
                                     {"additionalProperties", false}};
    return schema.dump();
  }();
  return kSchema;
}

std::vector<PromptMessage> DraftPrompt(std::string_view idea, std::string_view language) {
  std::string lang = "English";
  for (const Language& l : kLanguages)
    if (language == l.code) lang = l.name;
  std::string system =
      "You create original characters for Tokki, an app where people chat with AI characters. "
      "From the user's idea, write one complete character in " + lang +
      ". Answer with one JSON object and nothing else, with these fields:\n";
  for (const DraftField& f : DraftFields()) {
    system += "- " + std::string(f.json_name) + ": " + f.what + " (at most " +
              std::to_string(f.max_chars) + " characters)\n";
  }
  system += "- tags: " + std::to_string(kMinDraftTags) + " to " + std::to_string(kMaxDraftTags) +
            " short lowercase tags (genre, setting, traits)\n"
            "Write every text field in " + lang + ".";
  return {{"system", std::move(system)}, {"user", "Idea: " + std::string(idea)}};
}

Result<CharacterDraft> ParseDraft(std::string_view text) {
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Status::InvalidArgument("the draft is not a JSON object");
  CharacterDraft draft;
  for (const DraftField& f : DraftFields()) {
    auto it = doc.find(f.json_name);
    if (it == doc.end() || !it->is_string())
      return Status::InvalidArgument(std::string("the draft has no ") + f.json_name);
    TOKKI_ASSIGN_OR_RETURN(draft.*f.member, Bounded(WithoutControls(it->get<std::string>()),
                                                    f.json_name, f.min_chars, f.max_chars));
  }
  auto tags = doc.find("tags");
  if (tags == doc.end() || !tags->is_array())
    return Status::InvalidArgument("the draft has no tags");
  for (const auto& t : *tags) {
    if (!t.is_string()) return Status::InvalidArgument("the draft has a tag that is not text");
    if (draft.tags.size() == kMaxDraftTags) break;
    TOKKI_ASSIGN_OR_RETURN(std::string tag,
                           Bounded(WithoutControls(t.get<std::string>()), "tag", 1, kMaxDraftTagChars));
    draft.tags.push_back(std::move(tag));
  }
  if (draft.tags.size() < kMinDraftTags) return Status::InvalidArgument("the draft has no tags");
  return draft;
}

}  // namespace tokki::persona
