#include "api/sse_sources.h"

#include "api/codec.h"

namespace tokki::api {

std::string SseBlock(std::string_view event, const Json& data, int64_t id) {
  std::string out;
  if (id > 0) out += "id: " + std::to_string(id) + "\n";
  out += "event: ";
  out += event;
  out += "\ndata: ";
  out += data.dump(-1, ' ', false, Json::error_handler_t::replace);
  out += "\n\n";
  return out;
}

namespace {

class ReplyEventSource final : public EventSource {
 public:
  explicit ReplyEventSource(std::shared_ptr<chat::ReplyStream> stream) : stream_(std::move(stream)) {}

  std::string Poll(int64_t* last_seq, bool* finished) override {
    std::string out;
    for (auto& e : stream_->Since(*last_seq, finished)) {
      *last_seq = e.seq;
      out += SseBlock(ReplyEventName(e), ReplyEventJson(stream_->message_id(), e), e.seq);
    }
    return out;
  }
  int Subscribe(std::function<void()> wake) override { return stream_->Subscribe(std::move(wake)); }
  void Unsubscribe(int id) override { stream_->Unsubscribe(id); }

 private:
  std::shared_ptr<chat::ReplyStream> stream_;
};

class UserChannelSource final : public EventSource {
 public:
  UserChannelSource(chat::UserEvents* events, Id user_id) : events_(events), user_id_(user_id) {}

  std::string Poll(int64_t* last_seq, bool* finished) override {
    *finished = false;  // a user's channel never ends
    std::string out;
    for (auto& e : events_->Since(user_id_, *last_seq)) {
      *last_seq = e.seq;
      out += SseBlock(e.type, UserEventJson(e), e.seq);
    }
    return out;
  }
  int Subscribe(std::function<void()> wake) override { return events_->Subscribe(user_id_, std::move(wake)); }
  void Unsubscribe(int id) override { events_->Unsubscribe(user_id_, id); }

 private:
  chat::UserEvents* const events_;
  const Id user_id_;
};

class DraftEventSource final : public EventSource {
 public:
  explicit DraftEventSource(std::shared_ptr<chat::DraftJob> job) : job_(std::move(job)) {}

  std::string Poll(int64_t* last_seq, bool* finished) override {
    std::string out;
    for (auto& e : job_->stream()->Since(*last_seq, finished)) {
      *last_seq = e.seq;
      if (e.kind == chat::ReplyEvent::Kind::kDone)
        out += SseBlock("draft", DraftDoneJson(*job_, e), e.seq);
      else
        out += SseBlock(ReplyEventName(e), ReplyEventJson(kNoId, e), e.seq);
    }
    return out;
  }
  int Subscribe(std::function<void()> wake) override { return job_->stream()->Subscribe(std::move(wake)); }
  // The request that started the draft is its only reader: once it stops reading (the
  // client went away, or the draft is over) nobody will, so the generation stops too.
  void Unsubscribe(int id) override {
    job_->stream()->Unsubscribe(id);
    job_->Cancel();
  }

 private:
  std::shared_ptr<chat::DraftJob> job_;
};

}  // namespace

std::shared_ptr<EventSource> DraftSource(std::shared_ptr<chat::DraftJob> job) {
  return std::make_shared<DraftEventSource>(std::move(job));
}

std::shared_ptr<EventSource> ReplySource(std::shared_ptr<chat::ReplyStream> stream) {
  return std::make_shared<ReplyEventSource>(std::move(stream));
}

std::shared_ptr<EventSource> UserEventSource(chat::UserEvents* events, Id user_id) {
  return std::make_shared<UserChannelSource>(events, user_id);
}

}  // namespace tokki::api
