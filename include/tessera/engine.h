// Tessera engine API: open a GGUF language model, tokenize, generate and score text.
//
// Example (error handling shortened):
//
//   auto model = tessera::Model::Open("stories15M-q8_0.gguf", {});
//   if (!model.ok()) return Fail(model.status());           // e.g. kNotFound, kUnsupported
//   auto session = (*model)->NewSession();                  // owns the KV cache of one chat
//   if (!session.ok()) return Fail(session.status());
//   tessera::GenerateOptions options;
//   options.max_tokens = 64;
//   options.temperature = 0.8f;                             // 0 = greedy
//   options.seed = 7;
//   auto result = (*session)->Generate("Once upon a time", options,
//       [](const tessera::TokenEvent& t) {                  // streamed, UTF-8 complete pieces
//         std::fwrite(t.text.data(), 1, t.text.size(), stdout);
//         return true;                                      // false stops: kCancelled
//       });
//   if (!result.ok()) return Fail(result.status());         // e.g. kOutOfRange: prompt too long
//   std::printf("\n[%s, %.1f tokens/s]\n",
//               std::string(tessera::StopReasonName(result->stop_reason)).c_str(),
//               result->timings.decode_tokens_per_second);
//
// LoRA adapters (llama.cpp's adapter GGUFs) are opened against one base Model and applied per
// session, so one base in memory serves many adapters:
//
//   auto lora = tessera::Adapter::Open("tales-lora.gguf", **model);   // checked against the base
//   tessera::SessionOptions so;
//   so.adapters.push_back({*lora, /*scale=*/1.0f});
//   auto tuned = (*model)->NewSession(so);                            // base + adapter
//   auto plain = (*model)->NewSession();                              // the same base, unchanged
//   Status st = (*plain)->SetAdapters({{*lora, 1.0f}});  // or switch a live session's adapters
//
// Ownership: a Model owns the file mapping, the weights (used in place from the mapping) and the
// tokenizer. A Session owns the tokens and KV cache of one conversation and borrows its Model,
// which must outlive it. An Adapter owns its file mapping; sessions share it by shared_ptr.
// Thread safety: a Model and an Adapter are immutable after Open() and may be shared read-only
// by any number of sessions and threads. Models on one ComputePool take turns per forward pass. A Session is not
// thread-safe: one thread at a time. A CancellationToken may be set from any thread. Errors: every
// failure is a tessera::Status (tessera/status.h) with a stable code; nothing throws.
#ifndef TESSERA_ENGINE_H_
#define TESSERA_ENGINE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera {

class Model;
class Session;

// The compute threads of a runtime: one pool shared by every model, so that several models in
// memory never run more compute threads than the machine has cores. Forward passes on one pool
// take turns (one prefill or one decode step at a time), whichever model and session they come
// from. Thread-safe; share it by shared_ptr. Threads are created once, by Create().
class ComputePool {
 public:
  // n_threads: 0 = every core. Negative or more than the cores: kInvalidArgument.
  // kResourceExhausted if a thread cannot be started.
  static Result<std::shared_ptr<ComputePool>> Create(std::int32_t n_threads = 0);
  // The pool of n_threads (0 = every core) shared by every Model opened without an explicit
  // pool: created on first request, kept while a model uses it. Errors as Create().
  static Result<std::shared_ptr<ComputePool>> Shared(std::int32_t n_threads = 0);
  ~ComputePool();
  ComputePool(const ComputePool&) = delete;
  ComputePool& operator=(const ComputePool&) = delete;

  std::int32_t n_threads() const;

  struct Impl;  // engine internals (src/engine/compute_pool_impl.h)
  Impl& impl() const { return *impl_; }

 private:
  explicit ComputePool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ModelOptions {
  std::int32_t n_ctx = 0;  // context positions per session; 0 = the model's trained length
  // Compute threads when `pool` is not set: the model uses ComputePool::Shared(n_threads)
  // (0 = every core; more than the cores is kInvalidArgument), so models opened with the same
  // count share their threads. With `pool` set, n_threads must be 0 or pool->n_threads().
  std::int32_t n_threads = 0;
  // The runtime's pool to run on (shared with other models); null = ComputePool::Shared.
  std::shared_ptr<ComputePool> pool;
  // Give the matrices the forward pass multiplies a packed copy where this CPU's kernels read
  // one (Q4_0 and Q8_0 with AVX2: up to 2-3 times the speed of those products in prefill and
  // decode), and release the file's resident pages those copies replace. The copy costs a
  // pass over those bytes at Open and is private memory: the resident size stays about the
  // same, but it is not page cache that other processes mapping the file share
  // (docs/adr/0023-packed-weights.md). packed_bytes() tells what it cost; results are the same
  // logits as the scalar reference's (the packed kernels are bit-identical to it).
  bool pack_weights = true;
};

// A token with its natural-log probability under the model's unmodified distribution.
struct TokenLogprob {
  std::int32_t id = 0;
  float logprob = 0.0f;
};

enum class StopReason : std::uint8_t {
  kEndOfGeneration,  // the model produced an end-of-generation token (EOS, EOT, ...)
  kMaxTokens,        // GenerateOptions::max_tokens tokens were generated
  kContextFull,      // the next token would not fit in the session's context
  kCancelled,        // the callback returned false or the CancellationToken was set
};

// Stable lowercase names: "end_of_generation", "max_tokens", "context_full", "cancelled".
std::string_view StopReasonName(StopReason reason);

struct GenerateOptions {
  std::int32_t max_tokens = 128;  // tokens to generate, >= 0 (0 only evaluates the prompt)
  // Sampling, applied in llama.cpp's default order: top-k, top-p, min-p, temperature.
  float temperature = 0.0f;  // >= 0; 0 = greedy (argmax, ties to the lowest id)
  std::int32_t top_k = 0;    // >= 0; 0 = off
  float top_p = 1.0f;        // in (0, 1]; 1 = off
  float min_p = 0.0f;        // in [0, 1]; 0 = off
  std::uint64_t seed = 0;    // same seed, prompt and options: same tokens
  std::int32_t top_n = 0;    // alternatives reported per token, in [0, 100]
  // Text prompts only: add the model's BOS token (only when the session is empty, and as
  // Model::Tokenize does) and parse special-token text such as "<s>" as the special token.
  bool add_bos = true;
  bool parse_special = false;
};

// Passed to the TokenCallback for each generated token. Views are valid during the call only.
struct TokenEvent {
  std::int32_t index = 0;  // 0-based among the tokens of this Generate call
  std::int32_t id = 0;
  // Complete UTF-8: bytes of a character split across tokens are held back and arrive with the
  // token that completes it, so `text` may be empty. An end-of-generation token adds no text of
  // its own (only bytes still held back, if any).
  std::string_view text;
  float logprob = 0.0f;                        // unmodified distribution, natural log
  std::span<const TokenLogprob> alternatives;  // top_n best, descending; ties by lower id
};

// Returns false to stop generation (stop reason kCancelled).
using TokenCallback = std::function<bool(const TokenEvent&)>;

// A flag that stops a running Generate() at the next token boundary (stop reason kCancelled).
// Thread-safe: Cancel() may be called from any thread while another generates.
class CancellationToken {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_release); }
  void Reset() { cancelled_.store(false, std::memory_order_release); }
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> cancelled_{false};
};

// One generated token. Its text and alternatives are stored flat in the GenerateResult (so that
// generation does not allocate per token); read them with GenerateResult::TokenText(i) and
// Alternatives(i).
struct GeneratedToken {
  std::int32_t id = 0;
  float logprob = 0.0f;         // unmodified distribution, natural log
  std::size_t text_offset = 0;  // this token's bytes are text[text_offset, + text_size)
  std::size_t text_size = 0;
  std::size_t alternatives_offset = 0;  // into GenerateResult::alternatives
  std::size_t alternatives_size = 0;
};

struct GenerateTimings {
  std::int32_t prompt_tokens = 0;  // tokens evaluated by the prefill batch
  double prefill_seconds = 0.0;
  std::int32_t decode_tokens = 0;  // tokens generated
  double decode_seconds = 0.0;     // from the end of prefill to the end of generation
  double prefill_tokens_per_second = 0.0;
  double decode_tokens_per_second = 0.0;
};

struct GenerateResult {
  std::vector<std::int32_t> prompt_ids;    // the prompt as tokenized (with BOS when added)
  std::vector<GeneratedToken> tokens;      // includes a final end-of-generation token
  std::vector<TokenLogprob> alternatives;  // every token's alternatives, back to back
  std::string text;                        // the generated text (UTF-8)
  StopReason stop_reason = StopReason::kMaxTokens;
  GenerateTimings timings;

  std::string_view TokenText(std::size_t i) const {
    return std::string_view(text).substr(tokens[i].text_offset, tokens[i].text_size);
  }
  std::span<const TokenLogprob> Alternatives(std::size_t i) const {
    return std::span<const TokenLogprob>(alternatives)
        .subspan(tokens[i].alternatives_offset, tokens[i].alternatives_size);
  }
};

// One continuation token scored under teacher forcing.
struct ScoredToken {
  std::int32_t id = 0;
  float logprob = 0.0f;                 // log p(id | every token before it), natural log
  std::size_t alternatives_offset = 0;  // into ScoreResult::alternatives
  std::size_t alternatives_size = 0;
};

struct ScoreResult {
  std::vector<ScoredToken> tokens;  // one per continuation token
  std::vector<TokenLogprob> alternatives;
  double sum_logprob = 0.0;
  double perplexity = 0.0;  // exp(-sum_logprob / tokens.size())

  std::span<const TokenLogprob> Alternatives(std::size_t i) const {
    return std::span<const TokenLogprob>(alternatives)
        .subspan(tokens[i].alternatives_offset, tokens[i].alternatives_size);
  }
};

// A LoRA adapter in llama.cpp's GGUF convention, bound to the base Model it was opened with.
// The file: general.type "adapter", adapter.type "lora", adapter.lora.alpha (f32, optional),
// general.architecture equal to the base's, and for each adapted base matrix W named N (GGUF dims
// [n_in, n_out]) the pair N.lora_a (dims [n_in, r], F32 or F16) and N.lora_b (dims [r, n_out],
// F32 or F16). Adaptable: blk.<i>.attn_q/attn_k/attn_v/attn_output/ffn_gate/ffn_up/ffn_down.weight
// and an untied output.weight. Optional `adapter.base.sha256` (Tessera's key): the SHA-256 of the
// exact base file.
// Effect in a session that uses it with scale S: W' x = W x + s B (A x), s = S * alpha / r (r of
// that pair), or s = S when alpha is 0 or absent, as llama.cpp.
// Ownership: owns its file mapping (A and B are used in place). It does not keep the base Model
// alive; only sessions of that same Model object may use it. Immutable after Open(); share it by
// shared_ptr between sessions and threads.
class Adapter {
 public:
  // Maps the adapter GGUF, computes its SHA-256 and checks every tensor against `base`.
  // Errors, each naming the file and the key or tensor: those of opening a GGUF (kNotFound,
  // kIoError, kMalformed, ...); kInvalidArgument (not an adapter file: general.type absent or not
  // "adapter"); kUnsupported (adapter.type not "lora", a tensor type other than F32/F16, a target
  // that is not an adaptable matrix); kNotFound (a required key absent, a target tensor the base
  // lacks); kTypeMismatch (a key of the wrong type); kIncompatible (architecture differs from the
  // base's; adapter.base.sha256 differs from base.sha256(), naming both); kMalformed (non-finite
  // alpha, a malformed adapter.base.sha256, a tensor name without .lora_a/.lora_b, no tensors);
  // kMissingTensor (a lora_a without its lora_b or the reverse); kShapeMismatch (a tensor not
  // 2-D, n_in/n_out unlike the base matrix, A's r unlike B's r).
  static Result<std::shared_ptr<const Adapter>> Open(const std::string& gguf_path,
                                                     const Model& base);
  ~Adapter();
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;

  const std::string& path() const;
  const std::string& sha256() const;       // of the adapter file, 64 lowercase hex digits
  const std::string& base_sha256() const;  // adapter.base.sha256; empty when the file has none
  float alpha() const;                     // adapter.lora.alpha; 0 when absent
  std::int32_t rank() const;               // r (the largest r when pairs differ)
  std::int32_t n_matrices() const;         // base matrices it adapts
  std::int64_t n_params() const;           // elements of every A and B
  // One line, e.g. "lora: rank 8, alpha 16, 14 matrices, 57.3K params, f32".
  const std::string& description() const;

  struct Impl;  // engine internals (src/engine/adapter_impl.h)
  const Impl& impl() const { return *impl_; }

 private:
  explicit Adapter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One adapter of a session and its user scale (any finite value; 0 disables it exactly,
// negative subtracts it).
struct AdapterUse {
  std::shared_ptr<const Adapter> adapter;
  float scale = 1.0f;
};

struct SessionOptions {
  // Applied together, in this order, after each adapted matrix product (prefill and decode).
  std::vector<AdapterUse> adapters;
};

class Model {
 public:
  // Maps the GGUF file, computes its SHA-256 (cost: one sequential read of the whole file),
  // binds the weights and builds the tokenizer. Errors: kNotFound (no such file), kIoError,
  // the GGUF reader's format errors (kMalformed, kTruncated, ...), kUnsupported (architecture,
  // tensor type), kMissingTensor / kShapeMismatch, kInvalidArgument (negative option),
  // kOutOfRange (n_ctx above the model's trained context length).
  static Result<std::unique_ptr<Model>> Open(const std::string& gguf_path,
                                             const ModelOptions& options = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Facts, computed at Open().
  const std::string& path() const;
  const std::string& architecture() const;  // general.architecture, e.g. "llama"
  const std::string& sha256() const;        // of the whole file, 64 lowercase hex digits
  // One line, e.g. "stories15M: llama, 24.4M params, q8_0, n_vocab 32000, n_ctx_train 256".
  const std::string& description() const;
  // What Open tolerated in the file that llama.cpp also loads with a warning, one sentence each
  // (for example a special-token id outside the vocabulary, which is ignored); empty for a clean
  // file. Show them to the user: the model runs, but not necessarily as its author meant.
  const std::vector<std::string>& warnings() const;
  std::int32_t n_vocab() const;
  std::int32_t n_embd() const;       // width of the hidden state (Session::Embed's length)
  std::int32_t n_ctx() const;        // context of each session (ModelOptions::n_ctx resolved)
  std::int32_t n_ctx_train() const;  // the model's trained context length
  std::int64_t n_params() const;     // elements of every tensor in the file
  // Bytes of packed weight copies made at Open (ModelOptions::pack_weights; 0 without), and of
  // the file's resident pages released because the copies replace them.
  std::uint64_t packed_bytes() const;
  std::uint64_t released_file_bytes() const;
  // The compute threads this model runs on (shared with the other models on the same pool).
  const std::shared_ptr<ComputePool>& compute_pool() const;
  std::int32_t bos_id() const;  // -1 when the vocabulary has none
  std::int32_t eos_id() const;  // -1 when the vocabulary has none
  bool IsEndOfGeneration(std::int32_t id) const;

  // Text to token ids. add_bos is llama.cpp's add_special: BOS (and EOS) are added when the
  // vocabulary asks for them (tokenizer.ggml.add_bos_token, default true for SentencePiece).
  // Errors: kInvalidUtf8 naming the byte offset.
  Result<std::vector<std::int32_t>> Tokenize(std::string_view text, bool add_bos,
                                             bool parse_special) const;
  // The bytes one token stands for (" the", "\n"); may be part of a multi-byte character.
  // Empty for control and unknown tokens and for an id outside [0, n_vocab).
  std::string TokenText(std::int32_t id) const;
  // Token ids to text. Errors: kOutOfRange naming an id outside [0, n_vocab).
  Result<std::string> Detokenize(std::span<const std::int32_t> ids) const;

  // A new empty session; allocates its KV cache (n_ctx positions of every layer's keys and
  // values, F32), forward scratch, logits and sampler buffers. Errors: kOutOfRange from the
  // cache or scratch sizes.
  Result<std::unique_ptr<Session>> NewSession() const;
  // The same with options: the session applies options.adapters to every forward pass (and
  // keeps them alive). Errors: as NewSession(); kInvalidArgument for a null adapter, a
  // non-finite scale, or an adapter opened for another Model object (even of the same file).
  Result<std::unique_ptr<Session>> NewSession(const SessionOptions& options) const;

  struct Impl;  // opaque

 private:
  friend class Adapter;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a session holds in memory, as allocated (exact): its KV cache, and its other buffers
// (forward scratch, logits, hidden-state, token and sampler buffers). All of it is allocated
// when the session is created and never grows, except the LoRA part of the forward scratch,
// which Session::SetAdapters() grows when new adapters need more.
struct SessionMemory {
  std::uint64_t kv_bytes = 0;
  std::uint64_t other_bytes = 0;
};

// The tokens and KV cache of one conversation on one Model. Successive Generate() calls
// continue the conversation: each prompt is appended after the tokens already in the session.
class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Tokenizes `prompt` (BOS only when the session is empty and options.add_bos), evaluates it in
  // one batch, then samples up to max_tokens tokens one at a time, calling on_token (may be
  // empty) for each. Stops at an end-of-generation token, at max_tokens, when the next token
  // would not fit in the context (a stop reason, never an error once generation started), or on
  // cancellation. Every stop reason returns OK; on OK the session holds its previous tokens,
  // the prompt and the generated tokens (an end-of-generation token included).
  // Errors (the session is left unchanged): kInvalidArgument ("prompt is empty", a negative
  // max_tokens, or a sampling value out of its domain, naming it), kInvalidUtf8, kOutOfRange
  // (the prompt does not fit in the context: names its token count, the tokens already in the
  // session and n_ctx; or a prompt id outside [0, n_vocab)).
  Result<GenerateResult> Generate(std::string_view prompt, const GenerateOptions& options,
                                  const TokenCallback& on_token = {},
                                  const CancellationToken* cancel = nullptr);
  // The same with a prompt given as token ids (taken as is: no BOS is added).
  Result<GenerateResult> Generate(std::span<const std::int32_t> prompt_ids,
                                  const GenerateOptions& options,
                                  const TokenCallback& on_token = {},
                                  const CancellationToken* cancel = nullptr);

  // Teacher-forced log-probabilities of `continuation_ids` after `prompt_ids`, with the top_n
  // alternatives at each position. The prompt must be non-empty because the first continuation
  // token needs a context; a BOS token, if wanted, is part of the prompt. The session is
  // replaced: afterwards it holds prompt + continuation, as if that had been generated.
  // Errors (the session is left unchanged): kInvalidArgument (empty prompt or continuation,
  // top_n outside [0, 100]), kOutOfRange (an id outside [0, n_vocab), or prompt + continuation
  // longer than n_ctx).
  Result<ScoreResult> Score(std::span<const std::int32_t> prompt_ids,
                            std::span<const std::int32_t> continuation_ids, std::int32_t top_n = 0);

  // Score() of several continuations ("choices") of one prompt, sharing the prompt's keys and
  // values: result i is Score(prompt_ids, choices[i], top_n), bit for bit. prompt_ids[0, P-1)
  // is evaluated once; then, for each choice in order, the prompt's last token and the choice
  // (but its last token) are evaluated at positions P-1 onwards, overwriting the previous
  // choice's positions, in exactly the Forward() calls Score() makes (which is what makes the
  // results bit-identical: the kernels round differently for different batch sizes). Cost: one
  // prompt prefill plus one short batch per choice, instead of a prompt prefill per choice.
  // A classifier scores its labels this way: each label's tokens + EOS, then a softmax over the
  // sums. The session is replaced: afterwards it holds prompt + the last choice, as after
  // Score(prompt_ids, choices.back()). Allocates the results and one buffer of logits.
  // Errors (the session is left unchanged): kInvalidArgument (empty prompt, no choices, an
  // empty choice naming its index, top_n outside [0, 100]), kOutOfRange (more than
  // kMaxChoices choices, an id outside [0, n_vocab) naming the choice, or prompt + the longest
  // choice longer than n_ctx).
  static constexpr std::int32_t kMaxChoices = 256;
  Result<std::vector<ScoreResult>> ScoreChoices(std::span<const std::int32_t> prompt_ids,
                                                std::span<const std::vector<std::int32_t>> choices,
                                                std::int32_t top_n = 0);

  // An embedding of `ids`: the mean over their positions of the model's final hidden state
  // after the output norm, RMSNorm(x) * output_norm (the vector the output matrix would
  // multiply to give logits), n_embd() floats. The ids are taken as is (a BOS, if wanted, is
  // part of them) and evaluated in a fresh context with this session's adapters, so the same
  // ids give the same vector whatever the session held before. The session is replaced:
  // afterwards it holds `ids` (evaluated), as if they had been a prompt. Allocates only the
  // returned vector (the hidden rows go through a session buffer of min(64, n_ctx) rows).
  // Errors (the session is left unchanged): kInvalidArgument (empty ids), kOutOfRange (an id
  // outside [0, n_vocab), or more ids than n_ctx).
  Result<std::vector<float>> Embed(std::span<const std::int32_t> ids);

  // Replaces the adapters this session applies (as SessionOptions::adapters of a new session:
  // same order and meaning) and forgets every token, like Reset(): the next call starts from
  // an empty context. An empty vector returns the session to the plain base, bit for bit.
  // Cost: no model or adapter bytes are copied; the session keeps its KV cache and buffers and
  // allocates only when the new set needs more than it has held: LoRA scratch for a larger
  // rank or a wider adapted matrix (grown once, never shrunk), or a longer table of adapted
  // matrices or of adapters than before. Switching between adapters of one shape allocates
  // nothing after the first switch to that shape.
  // Errors (the session is left unchanged: same adapters, same tokens): kInvalidArgument for a
  // null adapter, a non-finite scale, or an adapter opened for another Model object, as
  // Model::NewSession(options).
  Status SetAdapters(std::vector<AdapterUse> adapters);

  // Forgets every token: the session becomes empty (no allocation).
  void Reset();
  // Tokens in the session (the conversation so far).
  std::int32_t n_past() const;
  std::int32_t n_ctx() const;
  std::span<const std::int32_t> tokens() const;
  SessionMemory memory() const;
  // The adapters this session applies (SessionOptions::adapters or the last SetAdapters());
  // empty for the plain base.
  std::span<const AdapterUse> adapters() const;

  struct Impl;  // opaque

 private:
  friend class Model;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera

#endif  // TESSERA_ENGINE_H_
