// tokki/api/sse_sources.h — the chat module's event logs adapted to EventSource: a reply's
// token stream, a user's event channel and a character draft's stream. Every event's JSON comes from the codec.
//
// Thread safety: as EventSource.
#pragma once

#include <memory>
#include <string>

#include "api/event_source.h"
#include "api/http.h"
#include "chat/draft_service.h"
#include "chat/reply_stream.h"
#include "chat/user_events.h"

namespace tokki::api {

// One SSE block: "id: N\nevent: NAME\ndata: JSON\n\n" (no id line when id <= 0).
std::string SseBlock(std::string_view event, const Json& data, int64_t id);

std::shared_ptr<EventSource> ReplySource(std::shared_ptr<chat::ReplyStream> stream);
std::shared_ptr<EventSource> UserEventSource(chat::UserEvents* events, Id user_id);
// A character draft: "token" {text}, then "draft" (DraftDoneJson) or "error" {code, message}.
// Its one reader is the request that started it: unsubscribing cancels the draft.
std::shared_ptr<EventSource> DraftSource(std::shared_ptr<chat::DraftJob> job);

}  // namespace tokki::api
