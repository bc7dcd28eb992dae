#include "recall.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "chat/chat_service.h"
#include "chat/memory_service.h"
#include "chat/persona_prompt.h"
#include "chat/user_events.h"
#include "core/clock.h"
#include "store_fill.h"

namespace tokki::bench::memory {

std::unique_ptr<Relationship> Relationship::Write(const Language& lang, const RecallOptions& o,
                                                  engine::Engine* engine) {
  std::unique_ptr<Relationship> r(new Relationship(lang));
  char tmpl[] = "/tmp/tokki-memory-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::perror("memory_bench: mkdtemp");
    return nullptr;
  }
  r->dir_ = tmpl;
  auto opened = store::OpenSqliteStore((r->dir_ / "tokki.db").string());
  if (!opened.ok()) {
    std::fprintf(stderr, "memory_bench: %s\n", opened.status().ToString().c_str());
    return nullptr;
  }
  r->store_ = std::move(opened).value();
  store::Store& st = *r->store_;
  const int64_t t0 = NowSteadyUs();
  store::User u;
  u.username = "friend_" + lang.code;
  u.password_hash = "x";
  auto user = st.CreateUser(u);
  if (!user.ok()) {
    std::fprintf(stderr, "memory_bench: %s\n", user.status().ToString().c_str());
    return nullptr;
  }
  store::Character c;
  c.owner_id = user->id;
  c.name = lang.character_name;
  c.description = lang.character_description;
  c.first_mes = lang.greeting;
  c.visibility = store::Visibility::kPublic;
  auto character = st.CreateCharacter(c);
  if (!character.ok()) {
    std::fprintf(stderr, "memory_bench: %s\n", character.status().ToString().c_str());
    return nullptr;
  }
  r->user_id_ = user->id;
  // The conversation and its greeting as ChatService::StartConversation makes them.
  chat::UserEvents events;
  chat::ChatService chat(&st, engine, &events,
                         chat::PersonaPromptBuilder(engine, o.n_ctx, o.n_reply_tokens, nullptr),
                         chat::ChatOptions{});
  auto conv = chat.StartConversation(user->id, character->id);
  auto path = conv.ok() ? chat.Path(user->id, conv->id)
                        : Result<std::vector<chat::PathMessage>>(conv.status());
  chat.Shutdown();
  if (!path.ok() || path->empty()) {
    std::fprintf(stderr, "memory_bench: starting the %s conversation failed: %s\n",
                 lang.code.c_str(), path.status().ToString().c_str());
    return nullptr;
  }
  r->conversation_id_ = conv->id;
  Id parent = path->back().message.id;
  const std::vector<Exchange> exchanges = MakeConversation(lang, o.n_messages / 2, o.seed);
  auto written = AppendExchanges(st, conv->id, parent, exchanges);
  if (!written.ok()) {
    std::fprintf(stderr, "memory_bench: %s\n", written.status().ToString().c_str());
    return nullptr;
  }
  r->n_messages_ = 1 + 2 * static_cast<int>(exchanges.size());
  r->write_s_ = (NowSteadyUs() - t0) / 1e6;
  return r;
}

Relationship::~Relationship() {
  store_.reset();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

namespace {

bool Contains(const chat::BuiltPrompt& p, const std::string& needle) {
  for (const auto& m : p.request.messages)
    if (m.content.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

RecallFigures ProbeRelationship(const Relationship& rel, engine::Engine* engine,
                                const std::string& mode, const RecallOptions& o, int rounds) {
  RecallFigures f;
  f.mode = mode;
  f.lang = rel.language().code;
  f.dense = engine->Info().embedding.available;
  chat::MemoryOptions mo;
  mo.summaries = false;  // nothing is generated here; recall and the prompt only
  chat::MemoryService memory(rel.store(), engine, mo);
  chat::UserEvents events;
  chat::ChatService chat(rel.store(), engine, &events,
                         chat::PersonaPromptBuilder(engine, o.n_ctx, o.n_reply_tokens, &memory),
                         chat::ChatOptions{});
  // The first prompt queues the relationship's backlog of messages to embed (dense recall);
  // wait until it is embedded, so the timed prompts see the whole index.
  const int64_t t_embed = NowSteadyUs();
  (void)chat.InspectPrompt(rel.user_id(), rel.conversation_id(), rel.language().greeting);
  memory.WaitIdle();
  f.embed_s = (NowSteadyUs() - t_embed) / 1e6;
  f.n_embedded = memory.Stats().messages_embedded;
  for (int round = 0; round < rounds; ++round) {
    for (const Fact& fact : rel.language().facts) {
      for (int kind = 0; kind < 2; ++kind) {
        const std::string& probe = kind == 0 ? fact.shared_probe : fact.paraphrase_probe;
        const int64_t t0 = NowSteadyUs();
        auto p = chat.InspectPrompt(rel.user_id(), rel.conversation_id(), probe);
        const double ms = (NowSteadyUs() - t0) / 1e3;
        if (round == 0 && rounds > 1) continue;  // warm-up
        if (!p.ok()) {
          ++f.errors;
          if (f.first_error.empty()) f.first_error = p.status().ToString();
          continue;
        }
        f.build_ms.push_back(ms);
        if (round != rounds - 1) continue;  // hits and tokens once
        const bool hit = Contains(*p, fact.text);
        (kind == 0 ? f.shared_n : f.paraphrase_n) += 1;
        (kind == 0 ? f.shared_hits : f.paraphrase_hits) += hit;
        if (kind == 0 && !hit) f.missed.push_back(fact.text);
        if (!hit && std::getenv("MEMORY_BENCH_SHOW_MISSES")) {
          for (size_t i = 0; i < p->sections.size(); ++i)
            if (p->sections[i] == "recalled" || p->sections[i] == "draft")
              std::fprintf(stderr, "[%s %s] %s\n", mode.c_str(), p->sections[i].c_str(),
                           p->request.messages[i].content.c_str());
        }
        int n_recalled = 0;
        for (size_t i = 0; i < p->sections.size(); ++i)
          if (p->sections[i] == "recalled")
            n_recalled += engine->CountTokens(p->request.messages[i].content);
        f.recalled_tokens.push_back(n_recalled);
        f.prompt_tokens.push_back(p->n_prompt_tokens);
      }
    }
  }
  chat.Shutdown();
  memory.Shutdown();
  return f;
}

}  // namespace tokki::bench::memory
