// tessera::Model: opening a GGUF file and the model-level calls of include/tessera/engine.h.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "base/sha256.h"
#include "engine/model_impl.h"
#include "gguf/keys.h"

namespace tessera {
namespace {

// "24.4M", "1.10B", "512K" style parameter counts.
std::string HumanCount(std::int64_t n) {
  char buf[32];
  const double x = static_cast<double>(n);
  if (x >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%.2fB", x / 1e9);
  } else if (x >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.1fM", x / 1e6);
  } else if (x >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1fK", x / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(n));
  }
  return buf;
}

// The tensor type holding the most bytes, e.g. "q8_0".
std::string DominantType(const gguf::File& file) {
  std::map<std::string_view, std::uint64_t> bytes_by_type;
  for (const gguf::TensorInfo& t : file.tensors()) {
    bytes_by_type[tensor::TypeName(t.type)] += t.size_bytes;
  }
  std::string_view best = "none";
  std::uint64_t best_bytes = 0;
  for (const auto& [name, bytes] : bytes_by_type) {
    if (bytes > best_bytes) {
      best = name;
      best_bytes = bytes;
    }
  }
  return std::string(best);
}

}  // namespace

Status Model::Impl::Forward(model::KvCache& kv, model::ForwardScratch& scratch,
                            std::span<const std::int32_t> tokens, std::int32_t start_pos,
                            model::LogitsMode mode, std::span<float> logits_out,
                            const model::LoraSet* lora) const {
  ComputePool::Impl& p = pool->impl();
  std::lock_guard<std::mutex> lock(p.mu);
  return model::Forward(*llama, kv, scratch, tokens, start_pos, mode, logits_out, p.threads.get(),
                        lora);
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::Open(const std::string& gguf_path,
                                           const ModelOptions& options) {
  if (options.n_ctx < 0) {
    return InvalidArgument("engine: n_ctx " + std::to_string(options.n_ctx) + " must be >= 0");
  }
  if (options.n_threads < 0) {
    return InvalidArgument("engine: n_threads " + std::to_string(options.n_threads) +
                           " must be >= 0");
  }
  auto impl = std::make_unique<Impl>();
  impl->path = gguf_path;
  {
    Result<gguf::File> file = gguf::File::Open(gguf_path);
    if (!file.ok()) return file.status().WithContext("engine: open \"" + gguf_path + "\"");
    impl->file = std::make_shared<const gguf::File>(std::move(file).value());
  }
  const gguf::File& file = *impl->file;
  // Cost: one sequential pass over every byte of the file.
  impl->sha256 = base::Sha256Hex(file.bytes());
  if (Result<std::string_view> arch = file.GetString(gguf::keys::kGeneralArchitecture); arch.ok()) {
    impl->architecture = std::string(*arch);
  }

  model::LoadOptions load;
  load.pack_weights = options.pack_weights;
  TS_ASSIGN_OR_RETURN(impl->llama, model::LlamaModel::Load(impl->file, load));
  TS_ASSIGN_OR_RETURN(impl->tokenizer, tokenizer::CreateTokenizer(file));
  const model::LlamaConfig& config = impl->llama->config();
  if (impl->tokenizer->n_vocab() != config.n_vocab) {
    return Status(StatusCode::kIncompatible, "engine: tokenizer has " +
                                                 std::to_string(impl->tokenizer->n_vocab()) +
                                                 " tokens but token_embd.weight has " +
                                                 std::to_string(config.n_vocab) + " rows");
  }
  impl->warnings = impl->tokenizer->vocab().warnings();
  impl->n_vocab = config.n_vocab;
  impl->n_ctx = options.n_ctx == 0 ? config.n_ctx_train : options.n_ctx;
  if (impl->n_ctx > config.n_ctx_train) {
    return OutOfRange("engine: n_ctx " + std::to_string(impl->n_ctx) +
                      " exceeds the model's trained context length " +
                      std::to_string(config.n_ctx_train));
  }
  if (options.pool != nullptr) {
    if (options.n_threads != 0 && options.n_threads != options.pool->n_threads()) {
      return InvalidArgument("engine: n_threads " + std::to_string(options.n_threads) +
                             " differs from the given pool's " +
                             std::to_string(options.pool->n_threads()) + " threads");
    }
    impl->pool = options.pool;
  } else {
    TS_ASSIGN_OR_RETURN(impl->pool, ComputePool::Shared(options.n_threads));
  }
  for (const gguf::TensorInfo& t : file.tensors()) {
    impl->n_params += static_cast<std::int64_t>(t.n_elements());
  }
  for (std::int32_t id = 0; id < impl->n_vocab; ++id) {
    impl->max_piece_bytes =
        std::max(impl->max_piece_bytes, impl->tokenizer->TokenToPiece(id).size());
  }

  std::string name = impl->architecture;
  if (Result<std::string_view> n = file.GetString(gguf::keys::kGeneralName);
      n.ok() && !n->empty()) {
    name = std::string(*n);
  }
  impl->description = name + ": " + impl->architecture + ", " + HumanCount(impl->n_params) +
                      " params, " + DominantType(file) + ", n_vocab " +
                      std::to_string(impl->n_vocab) + ", n_ctx_train " +
                      std::to_string(config.n_ctx_train);
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

const std::string& Model::path() const { return impl_->path; }
const std::string& Model::architecture() const { return impl_->architecture; }
const std::string& Model::sha256() const { return impl_->sha256; }
const std::string& Model::description() const { return impl_->description; }
const std::vector<std::string>& Model::warnings() const { return impl_->warnings; }
std::int32_t Model::n_vocab() const { return impl_->n_vocab; }
std::uint64_t Model::packed_bytes() const { return impl_->llama->packed_weight_bytes(); }
std::uint64_t Model::released_file_bytes() const { return impl_->llama->released_file_bytes(); }
std::int32_t Model::n_embd() const { return impl_->llama->config().n_embd; }
std::int32_t Model::n_ctx() const { return impl_->n_ctx; }
std::int32_t Model::n_ctx_train() const { return impl_->llama->config().n_ctx_train; }
std::int64_t Model::n_params() const { return impl_->n_params; }
const std::shared_ptr<ComputePool>& Model::compute_pool() const { return impl_->pool; }
std::int32_t Model::bos_id() const { return impl_->tokenizer->bos_id(); }
std::int32_t Model::eos_id() const { return impl_->tokenizer->eos_id(); }

bool Model::IsEndOfGeneration(std::int32_t id) const {
  return id >= 0 && id < impl_->n_vocab && impl_->tokenizer->IsEndOfGeneration(id);
}

Result<std::vector<std::int32_t>> Model::Tokenize(std::string_view text, bool add_bos,
                                                  bool parse_special) const {
  return impl_->tokenizer->Encode(
      text, tokenizer::EncodeOptions{.add_bos = add_bos, .parse_special = parse_special});
}

std::string Model::TokenText(std::int32_t id) const {
  if (id < 0 || id >= impl_->n_vocab) return std::string();
  return impl_->tokenizer->TokenToPiece(id);
}

Result<std::string> Model::Detokenize(std::span<const std::int32_t> ids) const {
  return impl_->tokenizer->Decode(ids);
}

Result<std::unique_ptr<Session>> Model::NewSession() const { return NewSession(SessionOptions{}); }

Result<std::unique_ptr<Session>> Model::NewSession(const SessionOptions& options) const {
  const Impl& m = *impl_;
  std::vector<model::LoraUse> uses;
  TS_RETURN_IF_ERROR(ToLoraUses(m, options.adapters, uses));
  Result<model::LoraSet> lora = model::LoraSet::Build(*m.llama, uses);
  if (!lora.ok()) return lora.status().WithContext("engine: session adapters");
  TS_ASSIGN_OR_RETURN(model::KvCache kv, model::KvCache::Create(m.llama->config(), m.n_ctx));
  TS_ASSIGN_OR_RETURN(model::ForwardScratch scratch,
                      model::ForwardScratch::Create(*m.llama,
                                                    std::min(Session::Impl::kMaxBatch, m.n_ctx),
                                                    m.n_ctx, &*lora));
  TS_ASSIGN_OR_RETURN(engine::Sampler sampler, engine::Sampler::Create({}, m.n_vocab));
  auto impl = std::make_unique<Session::Impl>(m, options.adapters, std::move(lora).value(),
                                              std::move(kv), std::move(scratch),
                                              std::move(sampler));
  impl->tokens.reserve(static_cast<std::size_t>(m.n_ctx));
  impl->batch.reserve(static_cast<std::size_t>(m.n_ctx));
  impl->logits.resize(static_cast<std::size_t>(m.n_vocab));
  const auto n_embd = static_cast<std::size_t>(m.llama->config().n_embd);
  impl->hidden.resize(static_cast<std::size_t>(impl->scratch.max_batch()) * n_embd);
  impl->hidden_sum.resize(n_embd);
  impl->lora_uses = std::move(uses);  // its capacity serves SetAdapters()
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

}  // namespace tessera
