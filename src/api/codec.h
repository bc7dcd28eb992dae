// tokki/api/codec.h — records <-> JSON, the API's wire shapes (see docs/api.md).
#pragma once

#include <optional>

#include "api/http.h"
#include "chat/chat_service.h"
#include "chat/draft_service.h"
#include "store/records.h"

namespace tokki::api {

std::string_view VisibilityName(store::Visibility v);
Result<store::Visibility> ParseVisibility(std::string_view s);
std::string_view MessageStatusName(store::MessageStatus s);

// Full character as its viewer sees it; stats only for the owner.
Json CharacterJson(const store::Character& c, Id viewer_id,
                   const std::optional<store::CharacterStats>& stats = std::nullopt);
// The short form used inside conversations and lists of friends.
Json CharacterSummaryJson(const store::Character& c);
Json MessageJson(const store::Message& m, int alternatives);
Json UserJson(const store::User& u);
// A conversation in lists: character summary, last message, read_only and its reason.
Json ConversationJson(const chat::ConversationView& v);

// Server-sent events of a reply stream: "token" {text}, "done" {message_id, finish_reason,
// usage, timings}, "error" {code, message}.
std::string_view ReplyEventName(const chat::ReplyEvent& e);
Json ReplyEventJson(Id message_id, const chat::ReplyEvent& e);
// The `usage` and `timings` of a finished reply (also in non-streamed answers).
Json DoneFieldsJson(const chat::ReplyEvent& done);
// A character draft in the character object's field names: {name, tagline, description,
// personality, scenario, first_mes, mes_example, tags, language}.
Json DraftJson(const persona::CharacterDraft& d, std::string_view language);
// The answer for a finished draft: {draft, finish_reason, usage, timings}.
Json DraftDoneJson(const chat::DraftJob& job, const chat::ReplyEvent& done);
// An event of the user's channel: {conversation_id, message}.
Json UserEventJson(const chat::UserEvent& e);

// Applies the fields present in `j` onto `c` (create and PATCH). Type errors are 400.
Status ApplyCharacterFields(const Json& j, store::Character* c);

}  // namespace tokki::api
