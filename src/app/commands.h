// tokki/app/commands.h — the `tokki` subcommands. Each is registered by one function so
// that each lives in its own file (cmd_*.cc); main.cc calls them all.
#pragma once

#include <CLI/CLI.hpp>

namespace tokki::app {

// `tokki serve ...` (cmd_serve.cc)
void AddServeCommand(CLI::App& app);
// `tokki model gen ...` (cmd_model.cc)
void AddModelCommand(CLI::App& app);
// `tokki admin ...` (cmd_admin.cc)
void AddAdminCommand(CLI::App& app);
// `tokki feed-eval ...` (cmd_feed_eval.cc)
void AddFeedEvalCommand(CLI::App& app);

}  // namespace tokki::app
