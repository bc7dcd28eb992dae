// Random-weight GGUF writer. See model_gen.h.
#include "engine/model_gen.h"

#include "core/hash.h"
#include "engine/llama_init.h"

#include <ggml.h>
#include <gguf.h>
#include <llama.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#ifndef TOKKI_LLAMA_MODELS_DIR
#define TOKKI_LLAMA_MODELS_DIR ""
#endif

namespace tokki::engine {
namespace {

constexpr char kChatMlTemplate[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt "
    "%}{{ '<|im_start|>assistant\\n' }}{% endif %}";

struct Shape {
  int n_layer;
  int n_embd;
  int n_head;
  int n_head_kv;
  int n_ff;
  int n_ctx_train;
  float rope_theta;
  float rms_eps;
};

// Weights come from SplitMix64 (core/hash.h): fully determined by the seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  // Uniform in [-1, 1).
  float Symmetric() { return static_cast<float>((gen_.Next() >> 40) * (1.0 / (1ull << 23)) - 1.0); }

 private:
  SplitMix64 gen_;
};

struct GgmlCtxDeleter {
  void operator()(ggml_context* c) const { ggml_free(c); }
};
struct GgufCtxDeleter {
  void operator()(gguf_context* c) const { gguf_free(c); }
};

Status CopyTokenizer(const std::string& vocab_path, gguf_context* out, int* n_vocab) {
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  std::unique_ptr<gguf_context, GgufCtxDeleter> src(
      gguf_init_from_file(vocab_path.c_str(), params));
  if (!src) return Status::NotFound("cannot read vocab file " + vocab_path);
  const int64_t tokens_id = gguf_find_key(src.get(), "tokenizer.ggml.tokens");
  const int64_t types_id = gguf_find_key(src.get(), "tokenizer.ggml.token_type");
  if (tokens_id < 0 || types_id < 0 || gguf_get_arr_type(src.get(), types_id) != GGUF_TYPE_INT32) {
    return Status::InvalidArgument("vocab file has no tokenizer: " + vocab_path);
  }
  // Every tokenizer.* key first (merges, pre-tokenizer, model), then the edited arrays.
  for (int64_t i = 0; i < gguf_get_n_kv(src.get()); ++i) {
    const std::string key = gguf_get_key(src.get(), i);
    if (key.rfind("tokenizer.", 0) != 0) continue;
    const gguf_type t = gguf_get_kv_type(src.get(), i);
    if (t == GGUF_TYPE_STRING) {
      gguf_set_val_str(out, key.c_str(), gguf_get_val_str(src.get(), i));
    } else if (t == GGUF_TYPE_ARRAY && gguf_get_arr_type(src.get(), i) == GGUF_TYPE_STRING) {
      const size_t n = gguf_get_arr_n(src.get(), i);
      std::vector<const char*> strs(n);
      for (size_t k = 0; k < n; ++k) strs[k] = gguf_get_arr_str(src.get(), i, k);
      gguf_set_arr_str(out, key.c_str(), strs.data(), n);
    } else if (t == GGUF_TYPE_ARRAY) {
      gguf_set_arr_data(out, key.c_str(), gguf_get_arr_type(src.get(), i),
                        gguf_get_arr_data(src.get(), i), gguf_get_arr_n(src.get(), i));
    } else if (t == GGUF_TYPE_UINT32) {
      gguf_set_val_u32(out, key.c_str(), gguf_get_val_u32(src.get(), i));
    } else if (t == GGUF_TYPE_BOOL) {
      gguf_set_val_bool(out, key.c_str(), gguf_get_val_bool(src.get(), i));
    }
  }
  const size_t n = gguf_get_arr_n(src.get(), tokens_id);
  if (n < 16) return Status::InvalidArgument("vocab too small in " + vocab_path);
  // SmolLM2's layout: 0 <|endoftext|>, 1 <|im_start|>, 2 <|im_end|>.
  std::vector<std::string> tokens(n);
  for (size_t k = 0; k < n; ++k) tokens[k] = gguf_get_arr_str(src.get(), tokens_id, k);
  tokens[1] = "<|im_start|>";
  tokens[2] = "<|im_end|>";
  std::vector<const char*> ptrs(n);
  for (size_t k = 0; k < n; ++k) ptrs[k] = tokens[k].c_str();
  gguf_set_arr_str(out, "tokenizer.ggml.tokens", ptrs.data(), n);
  std::vector<int32_t> types(
      static_cast<const int32_t*>(gguf_get_arr_data(src.get(), types_id)),
      static_cast<const int32_t*>(gguf_get_arr_data(src.get(), types_id)) + n);
  types[0] = types[1] = types[2] = 3;  // LLAMA_TOKEN_TYPE_CONTROL
  gguf_set_arr_data(out, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types.data(), n);
  gguf_set_val_u32(out, "tokenizer.ggml.bos_token_id", 1);
  gguf_set_val_u32(out, "tokenizer.ggml.eos_token_id", 2);
  gguf_set_val_u32(out, "tokenizer.ggml.padding_token_id", 2);
  gguf_set_val_u32(out, "tokenizer.ggml.unknown_token_id", 0);
  gguf_set_val_bool(out, "tokenizer.ggml.add_bos_token", false);
  gguf_set_val_str(out, "tokenizer.chat_template", kChatMlTemplate);
  *n_vocab = static_cast<int>(n);
  return Status::Ok();
}

}  // namespace

std::string DefaultVocabPath() {
  if (const char* env = std::getenv("TOKKI_LLAMA_VOCAB"); env && *env) return env;
  return std::string(TOKKI_LLAMA_MODELS_DIR) + "/ggml-vocab-starcoder.gguf";
}

Status GenerateModel(const ModelGenOptions& options) {
  Shape shape{};
  if (options.preset == "tiny") {
    shape = {2, 64, 4, 2, 128, 2048, 10000.0f, 1e-5f};
  } else if (options.preset == "smol") {
    shape = {30, 576, 9, 3, 1536, 8192, 100000.0f, 1e-5f};
  } else {
    return Status::InvalidArgument("unknown preset '" + options.preset + "' (tiny|smol)");
  }
  if (options.type != "f16" && options.type != "q8_0") {
    return Status::InvalidArgument("unknown type '" + options.type + "' (f16|q8_0)");
  }
  if (options.output_path.empty()) return Status::InvalidArgument("no output path");
  enum llama_pooling_type pooling_type = LLAMA_POOLING_TYPE_NONE;
  if (options.pooling == "mean") {
    pooling_type = LLAMA_POOLING_TYPE_MEAN;
  } else if (options.pooling == "cls") {
    pooling_type = LLAMA_POOLING_TYPE_CLS;
  } else if (options.pooling == "last") {
    pooling_type = LLAMA_POOLING_TYPE_LAST;
  } else if (!options.pooling.empty()) {
    return Status::InvalidArgument("unknown pooling '" + options.pooling + "' (mean|cls|last)");
  }

  std::unique_ptr<gguf_context, GgufCtxDeleter> gguf(gguf_init_empty());
  int n_vocab = 0;
  const std::string vocab = options.vocab_path.empty() ? DefaultVocabPath() : options.vocab_path;
  TOKKI_RETURN_IF_ERROR(CopyTokenizer(vocab, gguf.get(), &n_vocab));

  const std::string name = std::string(kGeneratedModelNamePrefix) + options.preset;
  gguf_set_val_str(gguf.get(), "general.architecture", "llama");
  gguf_set_val_str(gguf.get(), "general.name", name.c_str());
  gguf_set_val_u32(gguf.get(), "general.file_type", 1);  // LLAMA_FTYPE_MOSTLY_F16
  gguf_set_val_u32(gguf.get(), "llama.context_length", shape.n_ctx_train);
  gguf_set_val_u32(gguf.get(), "llama.embedding_length", shape.n_embd);
  gguf_set_val_u32(gguf.get(), "llama.block_count", shape.n_layer);
  gguf_set_val_u32(gguf.get(), "llama.feed_forward_length", shape.n_ff);
  gguf_set_val_u32(gguf.get(), "llama.attention.head_count", shape.n_head);
  gguf_set_val_u32(gguf.get(), "llama.attention.head_count_kv", shape.n_head_kv);
  gguf_set_val_u32(gguf.get(), "llama.rope.dimension_count", shape.n_embd / shape.n_head);
  gguf_set_val_u32(gguf.get(), "llama.vocab_size", n_vocab);
  gguf_set_val_f32(gguf.get(), "llama.rope.freq_base", shape.rope_theta);
  gguf_set_val_f32(gguf.get(), "llama.attention.layer_norm_rms_epsilon", shape.rms_eps);
  if (pooling_type != LLAMA_POOLING_TYPE_NONE)
    gguf_set_val_u32(gguf.get(), "llama.pooling_type", static_cast<uint32_t>(pooling_type));

  const int head_dim = shape.n_embd / shape.n_head;
  const int n_embd_kv = head_dim * shape.n_head_kv;
  struct TensorSpec {
    std::string name;
    int64_t ne0, ne1;  // ne1 == 0: a 1-d norm weight (F32, all ones)
  };
  std::vector<TensorSpec> specs;
  specs.push_back({"token_embd.weight", shape.n_embd, n_vocab});
  specs.push_back({"output_norm.weight", shape.n_embd, 0});
  for (int il = 0; il < shape.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    specs.push_back({p + "attn_norm.weight", shape.n_embd, 0});
    specs.push_back({p + "attn_q.weight", shape.n_embd, shape.n_embd});
    specs.push_back({p + "attn_k.weight", shape.n_embd, n_embd_kv});
    specs.push_back({p + "attn_v.weight", shape.n_embd, n_embd_kv});
    specs.push_back({p + "attn_output.weight", shape.n_embd, shape.n_embd});
    specs.push_back({p + "ffn_norm.weight", shape.n_embd, 0});
    specs.push_back({p + "ffn_gate.weight", shape.n_embd, shape.n_ff});
    specs.push_back({p + "ffn_down.weight", shape.n_ff, shape.n_embd});
    specs.push_back({p + "ffn_up.weight", shape.n_embd, shape.n_ff});
  }

  ggml_init_params ip{/*mem_size=*/specs.size() * ggml_tensor_overhead() + 1024,
                      /*mem_buffer=*/nullptr, /*no_alloc=*/true};
  std::unique_ptr<ggml_context, GgmlCtxDeleter> ctx(ggml_init(ip));
  if (!ctx) return Status::Internal("ggml_init failed");

  // Weights ~ U(-a, a) with std 0.02 (a = 0.02 * sqrt(3)): logits stay in a sane range.
  Rng rng(options.seed ^ (options.preset == "smol" ? 0x736d6f6cull : 0x74696e79ull));
  const float amp = 0.02f * std::sqrt(3.0f);
  std::vector<std::vector<uint8_t>> buffers;
  buffers.reserve(specs.size());
  std::vector<float> row;
  for (const TensorSpec& s : specs) {
    ggml_tensor* t = s.ne1 == 0 ? ggml_new_tensor_1d(ctx.get(), GGML_TYPE_F32, s.ne0)
                                : ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F16, s.ne0, s.ne1);
    ggml_set_name(t, s.name.c_str());
    std::vector<uint8_t>& buf = buffers.emplace_back(ggml_nbytes(t));
    if (s.ne1 == 0) {
      float* f = reinterpret_cast<float*>(buf.data());
      for (int64_t i = 0; i < s.ne0; ++i) f[i] = 1.0f;
    } else {
      row.resize(s.ne0);
      auto* h = reinterpret_cast<ggml_fp16_t*>(buf.data());
      for (int64_t r = 0; r < s.ne1; ++r) {
        for (int64_t i = 0; i < s.ne0; ++i) row[i] = amp * rng.Symmetric();
        ggml_fp32_to_fp16_row(row.data(), h + r * s.ne0, s.ne0);
      }
    }
    gguf_add_tensor(gguf.get(), t);
    gguf_set_tensor_data(gguf.get(), s.name.c_str(), buf.data());
  }

  namespace fs = std::filesystem;
  const fs::path out(options.output_path);
  std::error_code ec;
  if (out.has_parent_path()) fs::create_directories(out.parent_path(), ec);
  const std::string tmp_f16 = options.output_path + ".tmp-f16";
  if (!gguf_write_to_file(gguf.get(), tmp_f16.c_str(), /*only_meta=*/false)) {
    fs::remove(tmp_f16, ec);
    return Status::Unavailable("cannot write " + tmp_f16);
  }
  buffers.clear();

  if (options.type == "f16") {
    fs::rename(tmp_f16, out, ec);
    if (ec)
      return Status::Unavailable("cannot rename to " + options.output_path + ": " + ec.message());
    return Status::Ok();
  }

  InitBackendOnce();
  const std::string tmp_q = options.output_path + ".tmp-q8_0";
  llama_model_quantize_params qp = llama_model_quantize_default_params();
  qp.ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
  qp.nthread = options.n_threads > 0 ? options.n_threads
                                     : static_cast<int>(std::thread::hardware_concurrency());
  const uint32_t rc = llama_model_quantize(tmp_f16.c_str(), tmp_q.c_str(), &qp);
  fs::remove(tmp_f16, ec);
  if (rc != 0) {
    fs::remove(tmp_q, ec);
    return Status::Internal("llama_model_quantize failed (" + std::to_string(rc) + ")");
  }
  fs::rename(tmp_q, out, ec);
  if (ec)
    return Status::Unavailable("cannot rename to " + options.output_path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace tokki::engine
