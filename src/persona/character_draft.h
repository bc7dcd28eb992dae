// tokki/persona/character_draft.h — a character draft written by a model from a user's
// idea: its fields and their bounds, the JSON schema that holds a model to them, the
// instructions the model gets, and the check of what it wrote. chat/draft_service.h runs
// the generation; nothing here touches an engine.
//
// One table (kDraftFields in character_draft.cc) gives every field its JSON name and its
// bounds; the schema, the instructions and ParseDraft all read it.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "persona/prompt.h"

namespace tokki::persona {

struct CharacterDraft {
  std::string name;
  std::string tagline;
  std::string description;
  std::string personality;
  std::string scenario;
  std::string first_mes;    // the greeting ("greeting" in the model's JSON)
  std::string mes_example;  // example dialogue ("example_dialogue")
  std::vector<std::string> tags;
};

// Bounds, in characters (code points, as JSON Schema counts them).
inline constexpr size_t kMaxDraftIdeaChars = 2000;
inline constexpr size_t kMinDraftTags = 1;
inline constexpr size_t kMaxDraftTags = 6;
inline constexpr size_t kMaxDraftTagChars = 24;

// A string field of the draft: the model's JSON name and its length bounds.
struct DraftField {
  const char* json_name;
  std::string CharacterDraft::*member;
  size_t min_chars;
  size_t max_chars;
  const char* what;  // what the model is asked to write there
};
const std::vector<DraftField>& DraftFields();

// The languages Tokki's app is written in, the ones a draft can be asked for: en, ko, zh.
const std::vector<std::string>& DraftLanguages();

// InvalidArgument unless `idea` has text (1–kMaxDraftIdeaChars characters of valid UTF-8,
// no NUL) and `language` is one of DraftLanguages().
Status CheckDraftRequest(std::string_view idea, std::string_view language);

// The JSON schema (text) a draft is generated under: an object with every field required,
// in table order, every string and the tag list bounded.
const std::string& DraftSchema();

// The system instructions and the user's idea, for a draft in `language`.
// REQUIRES: CheckDraftRequest(idea, language) is OK.
std::vector<PromptMessage> DraftPrompt(std::string_view idea, std::string_view language);

// What a model wrote, checked against the schema's rules (a backend that ignores the
// schema is caught here): InvalidArgument when it is not a JSON object with every field
// present, of the right type and at least its minimum length. Control characters other
// than newline and tab are dropped; longer values (and tag lists) are cut to their bound.
// Extra properties are ignored.
Result<CharacterDraft> ParseDraft(std::string_view text);

}  // namespace tokki::persona
