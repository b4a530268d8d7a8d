// The insides of tessera::Model and tessera::Session (include/tessera/engine.h), shared by
// model.cc, session.cc, session_score.cc and adapter.cc. Internal to the engine layer.
//
// Ownership: Model::Impl owns the GGUF file (shared with the LlamaModel that borrows its bytes),
// the weights and the tokenizer; it is immutable after Model::Open(). Session::Impl owns one
// conversation's tokens, KV cache and per-token buffers, borrows its Model::Impl, and shares its
// adapters (whose bytes its LoraSet borrows).
// Thread safety: Model::Impl is read concurrently by sessions; Session::Impl is used by one
// thread at a time. The model runs on a ComputePool (the runtime's compute threads, shared with
// other models) whose ThreadPool runs one ParallelFor at a time, so Model::Impl::Forward()
// holds the pool's mutex for the whole forward pass: sessions and models generating on
// different threads take turns per Forward() call (one token of decode, or one prefill), which
// keeps each correct and never runs more compute threads than the pool has.
#ifndef TESSERA_ENGINE_MODEL_IMPL_H_
#define TESSERA_ENGINE_MODEL_IMPL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/compute_pool_impl.h"
#include "engine/logprobs.h"
#include "engine/sampler.h"
#include "gguf/reader.h"
#include "model/kv_cache.h"
#include "model/llama.h"
#include "model/lora_set.h"
#include "tessera/engine.h"
#include "tokenizer/tokenizer.h"

namespace tessera {

struct Model::Impl {
  std::shared_ptr<const gguf::File> file;
  std::unique_ptr<model::LlamaModel> llama;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;

  std::string path;
  std::string architecture;
  std::string sha256;
  std::string description;
  std::vector<std::string> warnings;  // what Open tolerated (Model::warnings)
  std::int32_t n_vocab = 0;
  std::int32_t n_ctx = 0;  // per session
  std::int64_t n_params = 0;
  // The longest TokenToPiece() over the vocabulary: bounds the bytes one token adds to the
  // generated text, so the text buffer can be reserved before the decode loop.
  std::size_t max_piece_bytes = 0;

  // The compute threads, shared with every session of this model and every other model on
  // the same pool; used only under the pool's mutex.
  std::shared_ptr<ComputePool> pool;

  // model::Forward on this model's weights and pool, serialised by the pool's mutex, with the
  // session's LoRA terms (nullptr: none).
  Status Forward(model::KvCache& kv, model::ForwardScratch& scratch,
                 std::span<const std::int32_t> tokens, std::int32_t start_pos,
                 model::LogitsMode mode, std::span<float> logits_out,
                 const model::LoraSet* lora) const;
};

// Checks `adapters` for a session of `m` (kInvalidArgument naming the index: a null adapter, or
// one opened for another Model object) and writes their model-layer uses into `uses` (cleared
// first; its capacity is reused). The scales are checked by LoraSet. Defined in
// session_adapters.cc.
Status ToLoraUses(const Model::Impl& m, std::span<const AdapterUse> adapters,
                  std::vector<model::LoraUse>& uses);

struct Session::Impl {
  // Tokens per Forward() matrix multiply during prefill (longer prompts run in chunks).
  static constexpr std::int32_t kMaxBatch = 64;
  // Rows of logits computed per Forward() call in Score(): bounds its buffer to
  // kScoreChunk * n_vocab floats.
  static constexpr std::int32_t kScoreChunk = 64;

  Impl(const Model::Impl& m, std::vector<AdapterUse> uses, model::LoraSet lora_set,
       model::KvCache k, model::ForwardScratch s, engine::Sampler smp)
      : model(&m),
        adapters(std::move(uses)),
        lora(std::move(lora_set)),
        kv(std::move(k)),
        scratch(std::move(s)),
        sampler(std::move(smp)) {}

  // The model's Forward with this session's cache, scratch and adapters.
  Status Forward(std::span<const std::int32_t> ids, std::int32_t start_pos,
                 model::LogitsMode mode, std::span<float> logits_out) {
    return model->Forward(kv, scratch, ids, start_pos, mode, logits_out,
                          lora.empty() ? nullptr : &lora);
  }

  // The bodies of Session::Generate (after tokenization), Score, ScoreChoices, Embed and
  // SetAdapters.
  Result<GenerateResult> Generate(std::vector<std::int32_t> prompt_ids,
                                  const GenerateOptions& options, const TokenCallback& on_token,
                                  const CancellationToken* cancel);
  Result<ScoreResult> Score(std::span<const std::int32_t> prompt_ids,
                            std::span<const std::int32_t> continuation_ids, std::int32_t top_n);
  Result<std::vector<ScoreResult>> ScoreChoices(std::span<const std::int32_t> prompt_ids,
                                                std::span<const std::vector<std::int32_t>> choices,
                                                std::int32_t top_n);
  Result<std::vector<float>> Embed(std::span<const std::int32_t> ids);
  Status SetAdapters(std::vector<AdapterUse> uses);
  // kOutOfRange naming the first id outside [0, n_vocab) of `ids` (`what`: "prompt", ...).
  Status CheckIds(std::span<const std::int32_t> ids, const char* what) const;
  void Reset() {
    tokens.clear();
    n_evaluated = 0;
  }

  // Score()'s checks shared with ScoreChoices() (`what`: "continuation", "choice 3", ...).
  Status CheckScoreInput(std::span<const std::int32_t> prompt_ids,
                         std::span<const std::int32_t> continuation_ids, std::int32_t top_n,
                         const std::string& what) const;
  // Evaluates prompt_ids[0, P-1) from position 0 (nothing when P == 1). `tokens` holds the
  // prompt already.
  Status EvaluatePromptHead(std::size_t n_prompt);
  // With `tokens` = prompt (n_prompt) + continuation (n_cont) and the KV cache holding
  // positions [0, n_prompt - 1): scores the continuation into `result`. rows: a logits buffer
  // of at least min(n_cont, kScoreChunk) * n_vocab floats; top: the alternatives buffer
  // (top_n entries).
  Status ScoreContinuation(std::size_t n_prompt, std::size_t n_cont, std::span<float> rows,
                           std::span<engine::TokenLogprob> top, ScoreResult& result);

  // The conversation's tokens; KV holds tokens[0, n_evaluated). The rest (the last generated
  // token, or a prompt whose Generate() was cancelled before prefill) is evaluated at the start
  // of the next Generate(), in the same batch as its prompt.
  // Capacity n_ctx, reserved at creation: never reallocated.
  const Model::Impl* model;
  std::vector<AdapterUse> adapters;  // kept alive for `lora`, which borrows their bytes
  model::LoraSet lora;               // empty without adapters (or with scale 0 only)
  model::KvCache kv;
  model::ForwardScratch scratch;
  engine::Sampler sampler;
  std::vector<std::int32_t> tokens;  // capacity n_ctx
  std::int32_t n_evaluated = 0;
  std::vector<float> logits;              // [n_vocab]: the next-token logits during Generate
  std::vector<std::int32_t> batch;        // capacity n_ctx: staging for the prefill batch
  std::vector<float> hidden;              // [scratch.max_batch(), n_embd]: Embed's hidden rows
  std::vector<double> hidden_sum;         // [n_embd]: Embed's sum over positions
  std::vector<model::LoraUse> lora_uses;  // SetAdapters' staging, capacity reused
};

}  // namespace tessera

#endif  // TESSERA_ENGINE_MODEL_IMPL_H_
