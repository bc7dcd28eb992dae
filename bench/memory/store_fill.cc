#include "store_fill.h"

namespace tokki::bench::memory {

Result<Id> AppendExchanges(store::Store& store, Id conversation_id, Id parent,
                           const std::vector<Exchange>& exchanges) {
  for (const Exchange& e : exchanges) {
    for (int k = 0; k < 2; ++k) {
      store::Message m;
      m.conversation_id = conversation_id;
      m.role = k == 0 ? "user" : "assistant";
      m.content = k == 0 ? e.user : e.reply;
      m.parent_id = parent;
      TOKKI_ASSIGN_OR_RETURN(store::Message added, store.AppendMessage(m));
      parent = added.id;
    }
  }
  return parent;
}

}  // namespace tokki::bench::memory
