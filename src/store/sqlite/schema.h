// tokki/store/sqlite/schema.h — numbered migrations. Migration N brings the schema from
// version N-1 to N; the version lives in PRAGMA user_version. Never edit a shipped
// migration: add a new one.
#pragma once

#include <string_view>

namespace tokki::store::sqlite {

inline constexpr std::string_view kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  persona TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE characters (
  id INTEGER PRIMARY KEY,
  owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
  slug TEXT UNIQUE,
  visibility INTEGER NOT NULL,
  name TEXT NOT NULL,
  nickname TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  personality TEXT NOT NULL DEFAULT '',
  scenario TEXT NOT NULL DEFAULT '',
  first_mes TEXT NOT NULL DEFAULT '',
  mes_example TEXT NOT NULL DEFAULT '',
  creator_notes TEXT NOT NULL DEFAULT '',
  system_prompt TEXT NOT NULL DEFAULT '',
  post_history_instructions TEXT NOT NULL DEFAULT '',
  alternate_greetings TEXT NOT NULL DEFAULT '[]',
  group_only_greetings TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]',
  creator TEXT NOT NULL DEFAULT '',
  character_version TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '[]',
  creator_notes_multilingual TEXT NOT NULL DEFAULT '',
  extensions TEXT NOT NULL DEFAULT '{}',
  character_book TEXT NOT NULL DEFAULT '',
  assets TEXT NOT NULL DEFAULT '',
  creation_date INTEGER NOT NULL DEFAULT 0,
  modification_date INTEGER NOT NULL DEFAULT 0,
  tagline TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT 'en',
  real_person INTEGER NOT NULL DEFAULT 0,
  has_avatar INTEGER NOT NULL DEFAULT 0,
  revision INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX characters_owner ON characters(owner_id);
CREATE INDEX characters_language ON characters(language, id);
CREATE VIRTUAL TABLE characters_fts USING fts5(name, tagline, description, tags, tokenize = 'trigram');
CREATE TABLE avatars (
  character_id INTEGER PRIMARY KEY REFERENCES characters(id) ON DELETE CASCADE,
  mime TEXT NOT NULL,
  bytes BLOB NOT NULL
);
CREATE TABLE conversations (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  character_id INTEGER NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
  title TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_message_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_user ON conversations(user_id, updated_at);
CREATE INDEX conversations_character ON conversations(character_id);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  parent_id INTEGER NOT NULL DEFAULT 0,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  status INTEGER NOT NULL,
  selected INTEGER NOT NULL DEFAULT 1,
  alternative_index INTEGER NOT NULL DEFAULT 0,
  client_id TEXT NOT NULL DEFAULT '',
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  rating INTEGER NOT NULL DEFAULT 0,
  finish_reason TEXT NOT NULL DEFAULT '',
  pinned INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);
CREATE INDEX messages_parent ON messages(conversation_id, parent_id);
CREATE UNIQUE INDEX messages_client_id ON messages(conversation_id, client_id) WHERE client_id != '';
CREATE INDEX messages_streaming ON messages(status) WHERE status = 0;
CREATE TABLE swipes (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  character_id INTEGER NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
  action INTEGER NOT NULL,
  undone INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX swipes_once ON swipes(user_id, character_id) WHERE undone = 0;
CREATE INDEX swipes_character ON swipes(character_id);
)sql",

    // 2: the operator side — roles and suspension, mature/hidden/removed characters,
    // reports, the audit log, settings, and indexes for per-user sessions and quotas.
    R"sql(
ALTER TABLE users ADD COLUMN role INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN adult_confirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE characters ADD COLUMN mature INTEGER NOT NULL DEFAULT 0;
ALTER TABLE characters ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE characters ADD COLUMN removed_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX messages_user_turns ON messages(conversation_id, created_at) WHERE role = 'user';
CREATE TABLE reports (
  id INTEGER PRIMARY KEY,
  reporter_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  target_kind INTEGER NOT NULL,
  target_id INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  status INTEGER NOT NULL DEFAULT 0,
  resolved_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  resolved_at INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX reports_open_once ON reports(reporter_id, target_kind, target_id)
  WHERE status = 0;
CREATE INDEX reports_status ON reports(status, id);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  actor_id INTEGER NOT NULL DEFAULT 0,  -- no foreign key: the log outlives the users it names
  action TEXT NOT NULL,
  target_kind TEXT NOT NULL DEFAULT '',
  target_id INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql",

    // 3: memory — notes and pins per relationship (user x character), versioned
    // summaries, forgotten messages, the full-text index of messages (rel = the
    // relationship's token, terms = core/terms.h IndexTerms; filled by the store) and
    // message embeddings per embedding model (float32, little-endian).
    R"sql(
ALTER TABLE messages ADD COLUMN forgotten INTEGER NOT NULL DEFAULT 0;
CREATE TABLE memories (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  character_id INTEGER NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
  kind INTEGER NOT NULL,
  content TEXT NOT NULL,
  message_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX memories_relationship ON memories(user_id, character_id, position);
CREATE UNIQUE INDEX memories_pin_once ON memories(message_id) WHERE message_id IS NOT NULL;
CREATE TABLE memory_summaries (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  character_id INTEGER NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  content TEXT NOT NULL,
  covers_until_message_id INTEGER NOT NULL DEFAULT 0,
  edited INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, character_id, version)
);
CREATE VIRTUAL TABLE messages_fts USING fts5(rel, terms, tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TABLE message_vectors (
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY (message_id, model)
);
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  DELETE FROM messages_fts WHERE rowid = old.id;
END;
)sql",
};

}  // namespace tokki::store::sqlite
