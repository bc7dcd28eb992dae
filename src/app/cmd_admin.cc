// `tokki admin`: operator commands that work on the data folder directly (also while the
// server runs: SQLite in WAL mode takes both).
//   tokki admin create-user --username NAME --password PASS [--role user|moderator|admin]
//   tokki admin set-role --username NAME --role ROLE
// Role changes end the user's sessions, so they take effect at the next sign-in; each is
// written to the audit log.
#include <filesystem>
#include <iostream>

#include "api/auth.h"
#include "app/commands.h"
#include "chat/moderation_service.h"
#include "store/store.h"

namespace tokki::app {

namespace {

struct AdminArgs {
  std::string data_dir = "./var";
  std::string username;
  std::string password;
  std::string role = "user";
};

Result<std::unique_ptr<store::Store>> OpenStore(const AdminArgs& a) {
  std::error_code ec;
  std::filesystem::create_directories(a.data_dir, ec);
  return store::OpenSqliteStore((std::filesystem::path(a.data_dir) / "tokki.db").string());
}

// The role and the store of a command, or a message and exit code on stderr.
struct Opened {
  store::Role role = store::Role::kUser;
  std::unique_ptr<store::Store> store;
  int exit_code = 0;
};

Opened Open(const AdminArgs& a) {
  Opened o;
  auto role = chat::ParseRole(a.role);
  if (!role.ok()) {
    std::cerr << "tokki: " << role.status().message() << "\n";
    o.exit_code = 2;
    return o;
  }
  o.role = *role;
  auto store = OpenStore(a);
  if (!store.ok()) {
    std::cerr << "tokki: " << store.status().message() << "\n";
    o.exit_code = 1;
    return o;
  }
  o.store = std::move(store).value();
  return o;
}

Status Audit(store::Store* s, Id user, const std::string& action, const std::string& detail) {
  store::AuditEntry e;
  e.actor_id = user;
  e.action = action;
  e.target_kind = "user";
  e.target_id = user;
  e.detail = detail + " (tokki admin)";
  return s->AppendAudit(std::move(e)).status();
}

int CreateUser(const AdminArgs& a) {
  Opened o = Open(a);
  if (!o.store) return o.exit_code;
  api::AuthOptions options;
  options.max_signups_per_address_per_hour = 0;
  api::Auth auth(o.store.get(), options);
  auto made = auth.Register(a.username, a.password, "cli");
  Status st = made.status();
  if (st.ok() && o.role != store::Role::kUser) st = o.store->SetUserRole(made->user.id, o.role);
  if (st.ok()) st = o.store->DeleteUserSessions(made->user.id);  // the CLI needs no session
  if (st.ok()) st = Audit(o.store.get(), made->user.id, "user.create", a.username + " as " + a.role);
  if (!st.ok()) {
    std::cerr << "tokki: " << st.message() << "\n";
    return 1;
  }
  std::cout << "created " << a.role << " " << a.username << " (id " << made->user.id << ")\n";
  return 0;
}

int SetRole(const AdminArgs& a) {
  Opened o = Open(a);
  if (!o.store) return o.exit_code;
  auto user = o.store->GetUserByName(a.username);
  Status st = user.status();
  if (st.ok()) st = o.store->SetUserRole(user->id, o.role);
  if (st.ok()) st = o.store->DeleteUserSessions(user->id);
  if (st.ok())
    st = Audit(o.store.get(), user->id, "user.role",
               a.username + ": " + std::string(chat::RoleName(user->role)) + " -> " + a.role);
  if (!st.ok()) {
    std::cerr << "tokki: " << st.message() << "\n";
    return 1;
  }
  std::cout << a.username << " is now " << a.role << "\n";
  return 0;
}

}  // namespace

void AddAdminCommand(CLI::App& app) {
  auto args = std::make_shared<AdminArgs>();
  CLI::App* cmd = app.add_subcommand("admin", "Operator commands: accounts and roles");
  cmd->require_subcommand(1);
  auto common = [args](CLI::App* c) {
    c->add_option("--data-dir", args->data_dir, "Folder of the database")->envname("TOKKI_DATA_DIR")->capture_default_str();
    c->add_option("--username", args->username, "Account name")->required();
  };
  CLI::App* create = cmd->add_subcommand("create-user", "Create an account (e.g. the first admin)");
  common(create);
  create->add_option("--password", args->password, "Password (at least 8 characters)")
      ->envname("TOKKI_ADMIN_PASSWORD")->required();
  create->add_option("--role", args->role, "user, moderator or admin")->capture_default_str();
  create->callback([args] { std::exit(CreateUser(*args)); });
  CLI::App* set_role = cmd->add_subcommand("set-role", "Change an account's role");
  common(set_role);
  set_role->add_option("--role", args->role, "user, moderator or admin")->required();
  set_role->callback([args] { std::exit(SetRole(*args)); });
}

}  // namespace tokki::app
