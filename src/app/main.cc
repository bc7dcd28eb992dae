// tokki — one binary: `tokki serve`, `tokki model gen`, `tokki feed-eval`.
// This is the composition root: flags and config → concrete store/engine → services → api.
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Tokki — a self-hosted virtual-friend platform"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tokki 0.1.0");
  app.set_config("--config", "", "Read options from a TOML/INI file: a [serve] section with the long flag names as keys");
  tokki::app::AddServeCommand(app);
  tokki::app::AddAdminCommand(app);
#ifdef TOKKI_HAVE_MODEL_CMD
  tokki::app::AddModelCommand(app);
#endif
#ifdef TOKKI_HAVE_FEED_EVAL_CMD
  tokki::app::AddFeedEvalCommand(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
