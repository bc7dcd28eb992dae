#include "app/wiring.h"

#include <filesystem>

#include "api/routes.h"
#include "chat/persona_prompt.h"
#include "core/clock.h"
#include "discover/deck.h"
#include "engine/remote_embedder.h"
#include "engine/remote_engine.h"
#ifdef TOKKI_WITH_LLAMA
#include "engine/llama_embedder.h"
#include "engine/llama_engine.h"
#endif
#include "persona/catalog.h"
#include "core/log.h"

namespace tokki::app {

std::unique_ptr<api::Server> Wiring::MakeServer(const api::ServerOptions& options) {
  return std::make_unique<api::Server>(options, api::MakeRoutes(services), api::MakeAuthenticator(auth.get()),
                                       metrics.get());
}

api::ServerOptions Wiring::ServerOptionsFor(const ServeConfig& cfg) const {
  api::ServerOptions so;
  so.host = cfg.host;
  so.port = cfg.port;
  so.n_threads = cfg.n_threads;
  so.web_dir = cfg.web_dir.empty() ? FindShippedDir("web/dist", "web", "index.html").string() : cfg.web_dir;
  so.max_body_bytes = cfg.max_body_bytes;
  so.heartbeat_ms = cfg.heartbeat_ms;
  so.max_connections = cfg.max_connections;
  so.max_connections_per_address = cfg.max_connections_per_address;
  so.max_streams_per_user = cfg.max_streams_per_user;
  so.header_timeout_s = cfg.header_timeout_s;
  so.trusted_proxies = cfg.trusted_proxies;
  so.secure_cookies = cfg.secure_cookies;
  so.allowed_origins = cfg.allowed_origins;
  return so;
}

void Wiring::Close() {
  if (chat) chat->Shutdown();
  if (memory) memory->Shutdown();
  if (deck) deck->Stop();
  if (engine) engine->Shutdown();
  if (store) store->Close();
}

namespace {

// Tokens one conversation's prompt and reply may take: the engine's window of one
// conversation (--ctx-size for the embedded engine), 4096 when it does not say.
int PromptBudget(const engine::Engine* e) {
  constexpr int kDefault = 4096;
  const int n = e ? e->Info().n_ctx : 0;
  return n > 0 ? n : kDefault;
}

// The embedder the config asks for (null when none): --embed-model or --embed-url.
Result<std::shared_ptr<engine::Embedder>> OpenEmbedder(const ServeConfig& cfg) {
  if (!cfg.embed_model.empty() && !cfg.embed_urls.empty())
    return Status::InvalidArgument("use either --embed-model or --embed-url, not both");
  if (!cfg.embed_model.empty()) {
#ifdef TOKKI_WITH_LLAMA
    engine::LlamaEmbedderOptions o;
    o.model_path = cfg.embed_model;
    o.n_threads = cfg.n_engine_threads;
    TOKKI_LOG(info, "loading embedding model", "path", cfg.embed_model);
    auto e = engine::LlamaEmbedder::Open(o);
    if (!e.ok()) return e.status().WithContext("loading the embedding model " + cfg.embed_model);
    return std::shared_ptr<engine::Embedder>(std::move(e).value());
#else
    return Status::InvalidArgument("this build has no embedded engine; use --embed-url");
#endif
  }
  if (!cfg.embed_urls.empty()) {
    engine::RemoteEmbedderOptions o;
    o.base_urls = cfg.embed_urls;
    o.model = cfg.embed_backend_model;
    o.api_key = cfg.embed_key;
    auto e = engine::RemoteEmbedder::Open(o);
    if (!e.ok()) return e.status().WithContext("setting up the embedding servers");
    return std::shared_ptr<engine::Embedder>(std::move(e).value());
  }
  return std::shared_ptr<engine::Embedder>();
}

}  // namespace

std::filesystem::path FindShippedDir(const std::string& source_rel, const std::string& install_rel,
                                     const std::string& marker) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe.parent_path() / "../.." / source_rel);  // build/bin/tokki
    candidates.push_back(exe.parent_path() / "../share/tokki" / install_rel);
  }
  candidates.push_back(source_rel);
  for (auto& c : candidates) {
    bool ok = marker.empty() ? fs::is_directory(c, ec) : fs::exists(c / marker, ec);
    if (ok) return fs::weakly_canonical(c, ec);
  }
  return {};
}

Status LoadCatalog(const ServeConfig& cfg, store::Store* store) {
  namespace fs = std::filesystem;
  if (cfg.catalog_dir == "none") return Status::Ok();
  fs::path dir = cfg.catalog_dir.empty() ? FindShippedDir("catalog", "catalog", "")
                                          : fs::path(cfg.catalog_dir);
  if (dir.empty()) {
    TOKKI_LOG(warn, "no character catalog found; pass --catalog-dir to load one");
    return Status::Ok();
  }
  // Card files are named after their slug: when the store has them all, skip parsing and
  // avatar rendering (the common case after the first start).
  bool all_present = true;
  std::error_code ec;
  for (auto& lang : fs::directory_iterator(dir, ec)) {
    if (!lang.is_directory()) continue;
    for (auto& f : fs::directory_iterator(lang.path(), ec)) {
      if (f.path().extension() != ".json") continue;
      if (!store->GetCharacterBySlug(f.path().stem().string()).ok()) all_present = false;
    }
  }
  if (all_present && !ec) return Status::Ok();
  TOKKI_LOG(info, "loading the character catalog (first start: renders avatars)", "dir", dir.string());
  auto entries = persona::LoadCatalog(dir);
  if (!entries.ok()) return entries.status().WithContext("loading the catalog from " + dir.string());
  int added = 0;
  for (auto& e : *entries) {
    auto existing = store->GetCharacterBySlug(e.slug);
    if (existing.ok()) continue;  // already loaded; edits by operators are kept
    if (!existing.status().IsNotFound()) return existing.status();
    store::Character c = e.character;
    c.slug = e.slug;
    c.owner_id = kNoId;
    c.visibility = store::Visibility::kPublic;
    c.has_avatar = false;
    TOKKI_ASSIGN_OR_RETURN(store::Character made, store->CreateCharacter(c));
    TOKKI_RETURN_IF_ERROR(store->SetAvatar(made.id, e.avatar));
    ++added;
  }
  TOKKI_LOG(info, "catalog loaded", "dir", dir.string(), "characters", entries->size(), "new", added);
  return Status::Ok();
}

Result<std::unique_ptr<Wiring>> Wire(const ServeConfig& cfg,
                                     std::unique_ptr<engine::Engine> engine_override) {
  namespace fs = std::filesystem;
  auto w = std::make_unique<Wiring>();
  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  if (ec) return Status::InvalidArgument("cannot create data dir " + cfg.data_dir + ": " + ec.message());

  auto store = store::OpenSqliteStore((fs::path(cfg.data_dir) / "tokki.db").string());
  if (!store.ok()) return store.status().WithContext("opening the database");
  w->store = std::move(store).value();
  auto stopped = w->store->StopInterruptedMessages();
  if (stopped.ok() && *stopped > 0)
    TOKKI_LOG(warn, "replies interrupted by the last shutdown marked stopped", "count", *stopped);

  std::shared_ptr<engine::Embedder> embedder;
  if (!engine_override) {
    if ((!cfg.embed_model.empty() || !cfg.embed_urls.empty()) && cfg.model.empty() &&
        cfg.backend_urls.empty())
      return Status::InvalidArgument("embeddings need a chat engine: add --model or --backend-url");
    TOKKI_ASSIGN_OR_RETURN(embedder, OpenEmbedder(cfg));
  }
  if (engine_override) {
    w->engine = std::move(engine_override);
  } else if (!cfg.model.empty()) {
#ifdef TOKKI_WITH_LLAMA
    engine::LlamaEngineOptions o;
    o.model_path = cfg.model;
    o.n_ctx = cfg.n_ctx;
    o.n_ctx_seq = cfg.n_ctx_seq;
    o.kv_unified = cfg.kv_unified;
    o.kv_type = cfg.kv_type;
    o.n_parallel = cfg.n_parallel;
    o.n_threads = cfg.n_engine_threads;
    o.disk_cache_dir = (fs::path(cfg.data_dir) / "kv-cache").string();
    o.embedder = embedder;
    TOKKI_LOG(info, "loading model", "path", cfg.model);
    auto e = engine::LlamaEngine::Open(o);
    if (!e.ok()) return e.status().WithContext("loading the model " + cfg.model);
    w->engine = std::move(e).value();
#else
    return Status::InvalidArgument("this build has no embedded engine; use --backend-url");
#endif
  } else if (!cfg.backend_urls.empty()) {
    engine::RemoteEngineOptions o;
    o.base_urls = cfg.backend_urls;
    o.model = cfg.backend_model;
    o.api_key = cfg.backend_key;
    o.embedder = embedder;
    auto e = engine::RemoteEngine::Open(o);
    if (!e.ok()) return e.status().WithContext("setting up the backends");
    w->engine = std::move(e).value();
  } else {
    TOKKI_LOG(warn, "no model configured: chat replies are disabled; start with --model "
                    "FILE.gguf or --backend-url URL");
  }

  if (w->engine) {
    auto info = w->engine->Info();
    TOKKI_LOG(info, "engine ready", "backend", info.backend, "model", info.name, "n_ctx", info.n_ctx);
    if (info.embedding.available)
      TOKKI_LOG(info, "embeddings ready", "backend", info.embedding.backend, "model",
                info.embedding.model, "n_dim", info.embedding.n_dim);
    if (info.is_generated)
      TOKKI_LOG(warn, "this is a generated demo model with random weights: its replies are noise. "
                      "For real replies start tokki with --model FILE.gguf (any GGUF chat model) "
                      "or --backend-url URL (an OpenAI-compatible server such as llama-server or vLLM)");
  }
  TOKKI_RETURN_IF_ERROR(LoadCatalog(cfg, w->store.get()));

  // The deck: every character and every swipe so far; then retrained in the background.
  auto deck = std::make_shared<discover::Deck>();
  {
    TOKKI_ASSIGN_OR_RETURN(auto all, w->store->AllCharacters());
    for (auto& c : all) deck->UpsertCard(discover::CardFromCharacter(c));
    TOKKI_ASSIGN_OR_RETURN(auto swipes, w->store->AllSwipes());
    for (auto& sw : swipes)
      deck->RecordSwipe(sw.user_id, sw.character_id, discover::FeedbackFromSwipe(sw.action),
                        sw.created_at_ms);
    deck->TrainNow();
    deck->StartBackgroundTraining(std::chrono::seconds(30));
    TOKKI_LOG(info, "deck ready", "characters", all.size(), "swipes", swipes.size());
  }
  w->deck = deck;

  w->events = std::make_unique<chat::UserEvents>();
  chat::ChatOptions chat_options;
  chat_options.max_replies_per_user = cfg.max_replies_per_user;
  chat_options.max_messages_per_day = cfg.max_messages_per_day;
  chat::MemoryOptions memory_options;
  memory_options.demo_model = w->engine && w->engine->Info().is_generated;
  memory_options.summaries = cfg.memory;
  w->memory = std::make_unique<chat::MemoryService>(w->store.get(), w->engine.get(), memory_options);
  w->chat = std::make_unique<chat::ChatService>(
      w->store.get(), w->engine.get(), w->events.get(),
      chat::PersonaPromptBuilder(w->engine.get(), PromptBudget(w->engine.get()), 512,
                                 cfg.memory ? w->memory.get() : nullptr),
      chat_options);
  api::AuthOptions auth_options;
  auth_options.max_signups_per_address_per_hour = cfg.max_signups_per_address_per_hour;
  w->auth = std::make_unique<api::Auth>(w->store.get(), auth_options);
  chat::CharacterOptions character_options;
  character_options.max_characters_per_user = cfg.max_characters_per_user;
  character_options.max_storage_bytes_per_user = cfg.max_storage_mib_per_user << 20;
  Wiring* wp = w.get();  // outlives every service it owns
  w->characters = std::make_unique<chat::CharacterService>(
      w->store.get(), character_options,
      [wp]() -> std::shared_ptr<const persona::ContentPolicy> {
        return wp->moderation ? wp->moderation->policy() : nullptr;
      },
      [deck](const store::Character& c) {
        if (c.removed_at_ms != 0)
          deck->RemoveCard(c.id);
        else
          deck->UpsertCard(discover::CardFromCharacter(c));
      });
  api::Auth* auth = w->auth.get();
  chat::ChatService* chat_service = w->chat.get();
  w->moderation = std::make_unique<chat::ModerationService>(
      w->store.get(), w->characters.get(), [auth, chat_service](Id user) {
        static_cast<void>(auth->RevokeUserSessions(user));
        chat_service->StopUser(user);
      });
  TOKKI_RETURN_IF_ERROR(w->moderation->Load());
  w->chat->SetReplyPolicy([wp]() { return wp->moderation->policy(); });
  w->accounts = std::make_unique<chat::AccountService>(w->store.get(), w->chat.get(), w->characters.get(),
                                                        w->events.get(), w->engine.get());
  w->metrics = std::make_unique<api::Metrics>();
  w->services.store = w->store.get();
  w->services.chat = w->chat.get();
  w->services.characters = w->characters.get();
  w->drafts = std::make_unique<chat::DraftService>(w->engine.get(), w->chat.get());
  w->services.drafts = w->drafts.get();
  w->services.memory = w->memory.get();
  w->services.moderation = w->moderation.get();
  w->services.accounts = w->accounts.get();
  w->services.events = w->events.get();
  w->services.engine = w->engine.get();
  w->services.auth = w->auth.get();
  w->services.deck = deck.get();
  w->services.metrics = w->metrics.get();
  engine::Engine* eng = w->engine.get();
  w->services.extra_metrics = [eng, deck]() {
    std::string out;
    auto line = [&out](const char* name, const char* type, const char* help, double v) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
             name + " " + std::to_string(v) + "\n";
    };
    if (eng) {
      auto st = eng->Stats();
      line("tokki_engine_queue_depth", "gauge", "Generations waiting for a slot.", st.queue_depth);
      line("tokki_engine_active_sequences", "gauge", "Generations decoding now.", st.active_sequences);
      line("tokki_engine_resident_sequences", "gauge", "Conversations with KV in the context.", st.resident_sequences);
      line("tokki_engine_host_sequences", "gauge", "Conversations with KV snapshots in host RAM.", st.host_sequences);
      line("tokki_engine_disk_sequences", "gauge", "Conversations with KV snapshots on disk.", st.disk_sequences);
      line("tokki_engine_prompt_tokens_total", "counter", "Prompt tokens of all requests.", st.prompt_tokens_total);
      line("tokki_engine_cached_tokens_total", "counter", "Prompt tokens reused from cache.", st.cached_tokens_total);
      line("tokki_engine_prefill_tokens_total", "counter", "Prompt tokens prefilled.", st.prefill_tokens_total);
      line("tokki_engine_decode_tokens_total", "counter", "Tokens generated.", st.decode_tokens_total);
      line("tokki_engine_cache_hit_ratio", "gauge", "cached / prompt tokens.",
           st.prompt_tokens_total ? double(st.cached_tokens_total) / st.prompt_tokens_total : 0);
      line("tokki_engine_prefill_tokens_per_second", "gauge", "Recent prefill speed.", st.prefill_tokens_per_s);
      line("tokki_engine_decode_tokens_per_second", "gauge", "Recent decode speed.", st.decode_tokens_per_s);
    }
    auto ds = deck->Stats();
    line("tokki_deck_cards", "gauge", "Cards in the deck index.", static_cast<double>(ds.n_cards));
    line("tokki_deck_users", "gauge", "Users with swipes.", static_cast<double>(ds.n_users));
    return out;
  };
  w->services.on_engagement = [deck](Id user, Id character, int n_messages, int rating) {
    deck->RecordEngagement(user, character, n_messages, rating, NowUnixMs());
  };
  return w;
}

}  // namespace tokki::app
