// tokki/engine/llama_init.h — one-time llama.cpp backend setup (internal to src/engine):
// routes llama.cpp's log to Tokki's (warnings at debug, errors at warn; info dropped).
// Thread-safe.
#pragma once

namespace tokki::engine {

void InitBackendOnce();

}  // namespace tokki::engine
