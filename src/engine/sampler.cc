// See sampler.h.
#include "engine/sampler.h"

#include <cmath>

#include "engine/grammar.h"

namespace tokki::engine {

llama_sampler* MakeSampler(const SamplingParams& sp, const SamplerVocab& v,
                           std::span<const llama_token> history) {
  const int n_vocab = v.n_vocab;
  llama_sampler_chain_params scp = llama_sampler_chain_default_params();
  scp.no_perf = true;
  llama_sampler* chain = llama_sampler_chain_init(scp);
  std::vector<llama_logit_bias> bias;
  for (const auto& [tok, b] : sp.logit_bias) {
    if (tok >= 0 && tok < n_vocab) bias.push_back({tok, b});
  }
  if (sp.ignore_eos) {
    for (llama_token t : v.eog_tokens) bias.push_back({t, -INFINITY});
  }
  if (!bias.empty()) {
    llama_sampler_chain_add(chain, llama_sampler_init_logit_bias(
                                       n_vocab, static_cast<int32_t>(bias.size()), bias.data()));
  }
  if (sp.repeat_penalty != 1.0f && sp.repeat_last_n != 0) {
    llama_sampler_chain_add(chain, llama_sampler_init_penalties(n_vocab, sp.repeat_last_n,
                                                                sp.repeat_penalty, 0.0f, 0.0f));
  }
  if (sp.dry_multiplier > 0.0f) {
    static const char* kBreakers[] = {"\n", ":", "\"", "*"};
    llama_sampler_chain_add(chain,
                            llama_sampler_init_dry(v.vocab, sp.dry_multiplier, sp.dry_base,
                                                   sp.dry_allowed_length, -1, kBreakers, 4));
  }
  if (sp.temperature <= 0.0f) {
    llama_sampler_chain_add(chain, llama_sampler_init_greedy());
  } else {
    if (sp.top_k > 0) llama_sampler_chain_add(chain, llama_sampler_init_top_k(sp.top_k));
    if (sp.top_p < 1.0f) llama_sampler_chain_add(chain, llama_sampler_init_top_p(sp.top_p, 1));
    if (sp.min_p > 0.0f) llama_sampler_chain_add(chain, llama_sampler_init_min_p(sp.min_p, 1));
    llama_sampler_chain_add(chain, llama_sampler_init_temp(sp.temperature));
    llama_sampler_chain_add(chain, llama_sampler_init_dist(sp.seed));
  }
  // Penalties look at recent history: feed them the end of the prompt.
  if ((sp.repeat_penalty != 1.0f && sp.repeat_last_n != 0) || sp.dry_multiplier > 0.0f) {
    for (llama_token t : history) llama_sampler_accept(chain, t);
  }
  return ConstrainSampler(chain, v.vocab, sp.grammar);  // the grammar first (grammar.h)
}

}  // namespace tokki::engine
