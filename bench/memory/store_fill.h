// bench/memory/store_fill.h — writes a generated conversation into a store directly (no
// server, no engine): the long histories memory_bench measures recall and serving on.
//
// Thread safety: one caller per store connection.
#pragma once

#include <vector>

#include "corpus.h"
#include "core/result.h"
#include "store/store.h"

namespace tokki::bench::memory {

// Appends each exchange (the user's message, then the reply) to `conversation_id`, after
// `parent`. Returns the id of the last message written (`parent` when there is none).
Result<Id> AppendExchanges(store::Store& store, Id conversation_id, Id parent,
                           const std::vector<Exchange>& exchanges);

}  // namespace tokki::bench::memory
