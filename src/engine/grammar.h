// tokki/engine/grammar.h — constrained output for the embedded engine: a JSON schema
// becomes a GBNF grammar (llama.cpp's own converter), a grammar is checked, and a sampler
// chain gets llama.cpp's grammar sampler in front.
//
// grammar.cc is the only file that includes llama.cpp's common library. That library
// carries its own nlohmann::json (another version than the rest of Tokki, in another
// inline namespace), so nothing of it crosses this header: only std types and llama.h's
// opaque handles.
//
// Thread safety: every function is thread-safe (no shared state; `vocab` is only read).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "core/status.h"
#include "engine/engine.h"

struct llama_sampler;
struct llama_vocab;

namespace tokki::engine {

// The GBNF grammar (start rule `root`) that accepts exactly the JSON documents valid under
// `schema_json`, by llama.cpp's json_schema_to_grammar. kInvalidArgument when the text is
// not JSON or uses what the converter does not support.
Result<std::string> SchemaToGbnf(std::string_view schema_json);

// kInvalidArgument (with llama.cpp's reason in the log) when `gbnf` does not parse as a
// grammar with a `root` rule for `vocab`.
Status CheckGrammar(const llama_vocab* vocab, std::string_view gbnf);

// Readies a request's constraint: converts a JSON schema into `sampling->grammar`
// (clearing `json_schema`) and checks the grammar. After success `sampling->grammar` is
// the whole constraint ("" = none). REQUIRES: the request passed CheckRequest (engine.h).
Status ResolveGrammar(SamplingParams* sampling, const llama_vocab* vocab);

// `chain` constrained by `gbnf`: a new chain [grammar sampler, chain] that owns `chain`, so
// the grammar removes disallowed tokens before anything else samples; `chain` itself when
// `gbnf` is empty. REQUIRES: `gbnf` passed CheckGrammar (a grammar that fails to build
// leaves `chain` unconstrained, with an error in the log). Prompt tokens fed to `chain`
// before this call reach only its own samplers, never the grammar.
llama_sampler* ConstrainSampler(llama_sampler* chain, const llama_vocab* vocab,
                                const std::string& gbnf);

}  // namespace tokki::engine
