// Constrained output with llama.cpp's grammar sampler and schema converter. See grammar.h.
#include "engine/grammar.h"

#include <llama.h>

#include <exception>
#include <string>

// llama.cpp's common library (include path set for this file only, see CMakeLists.txt).
#include "json-schema-to-grammar.h"

#include "core/log.h"

namespace tokki::engine {

Result<std::string> SchemaToGbnf(std::string_view schema_json) {
  try {
    const common_json schema = common_json::parse(std::string(schema_json));
    // force_gbnf: always GBNF, whatever backend llama.cpp was built with.
    return json_schema_to_grammar(schema, /*force_gbnf=*/true);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("invalid JSON schema: ") + e.what());
  }
}

Status CheckGrammar(const llama_vocab* vocab, std::string_view gbnf) {
  const std::string text(gbnf);
  llama_sampler* s = llama_sampler_init_grammar(vocab, text.c_str(), "root");
  if (!s) return Status::InvalidArgument("invalid grammar (it does not parse, or has no root rule)");
  llama_sampler_free(s);
  return Status::Ok();
}

Status ResolveGrammar(SamplingParams* sampling, const llama_vocab* vocab) {
  if (!sampling->json_schema.empty()) {
    TOKKI_ASSIGN_OR_RETURN(sampling->grammar, SchemaToGbnf(sampling->json_schema));
    sampling->json_schema.clear();
  }
  if (sampling->grammar.empty()) return Status::Ok();
  return CheckGrammar(vocab, sampling->grammar);
}

llama_sampler* ConstrainSampler(llama_sampler* chain, const llama_vocab* vocab,
                                const std::string& gbnf) {
  if (gbnf.empty()) return chain;
  llama_sampler* grammar = llama_sampler_init_grammar(vocab, gbnf.c_str(), "root");
  if (!grammar) {
    TOKKI_LOG(error, "a checked grammar failed to build; sampling without it");
    return chain;
  }
  llama_sampler_chain_params params = llama_sampler_chain_default_params();
  params.no_perf = true;
  llama_sampler* outer = llama_sampler_chain_init(params);
  llama_sampler_chain_add(outer, grammar);
  llama_sampler_chain_add(outer, chain);
  return outer;
}

}  // namespace tokki::engine
