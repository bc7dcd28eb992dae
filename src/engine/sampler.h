// tokki/engine/sampler.h — the llama.cpp sampler chain of one request, built from its
// SamplingParams: logit bias (and banned end-of-generation tokens for ignore_eos),
// repetition penalties and DRY, then greedy or top-k / top-p / min-p / temperature / a
// seeded draw.
//
// Thread safety: pure; the returned chain belongs to the caller (llama_sampler_free).
#pragma once

#include <llama.h>

#include <span>
#include <vector>

#include "engine/engine.h"

namespace tokki::engine {

struct SamplerVocab {
  const llama_vocab* vocab = nullptr;
  int n_vocab = 0;
  std::span<const llama_token> eog_tokens;  // banned when ignore_eos
};

// `history`: the end of the prompt, fed to the penalties so they see recent text.
llama_sampler* MakeSampler(const SamplingParams& sp, const SamplerVocab& v,
                           std::span<const llama_token> history);

}  // namespace tokki::engine
