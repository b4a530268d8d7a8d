// tessera::Session: the generation loop (prefill, then one token at a time) and session state.
#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "engine/model_impl.h"
#include "tokenizer/stream_decoder.h"

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;  // measurement only, never used for decisions

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

engine::SamplerConfig ToSamplerConfig(const GenerateOptions& o) {
  return engine::SamplerConfig{.temperature = o.temperature,
                               .top_k = o.top_k,
                               .top_p = o.top_p,
                               .min_p = o.min_p,
                               .seed = o.seed,
                               .top_n = o.top_n};
}

Status ValidateOptions(const GenerateOptions& o) {
  if (o.max_tokens < 0) {
    return InvalidArgument("engine: max_tokens " + std::to_string(o.max_tokens) + " must be >= 0");
  }
  return ToSamplerConfig(o).Validate();
}

}  // namespace

std::string_view StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kEndOfGeneration:
      return "end_of_generation";
    case StopReason::kMaxTokens:
      return "max_tokens";
    case StopReason::kContextFull:
      return "context_full";
    case StopReason::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

void Session::Reset() { impl_->Reset(); }
std::int32_t Session::n_past() const { return static_cast<std::int32_t>(impl_->tokens.size()); }
std::int32_t Session::n_ctx() const { return impl_->kv.n_ctx(); }
SessionMemory Session::memory() const {
  SessionMemory m;
  m.kv_bytes = impl_->kv.size_bytes();
  m.other_bytes = impl_->scratch.size_bytes() + impl_->sampler.size_bytes() +
                  (impl_->tokens.capacity() + impl_->batch.capacity()) * sizeof(std::int32_t) +
                  (impl_->logits.capacity() + impl_->hidden.capacity()) * sizeof(float) +
                  impl_->hidden_sum.capacity() * sizeof(double) +
                  impl_->lora_uses.capacity() * sizeof(model::LoraUse);
  return m;
}
std::span<const std::int32_t> Session::tokens() const { return impl_->tokens; }
std::span<const AdapterUse> Session::adapters() const { return impl_->adapters; }

Result<GenerateResult> Session::Generate(std::string_view prompt, const GenerateOptions& options,
                                         const TokenCallback& on_token,
                                         const CancellationToken* cancel) {
  TS_RETURN_IF_ERROR(ValidateOptions(options));
  if (prompt.empty()) return InvalidArgument("engine: prompt is empty");
  const tokenizer::EncodeOptions encode{.add_bos = options.add_bos && impl_->tokens.empty(),
                                        .parse_special = options.parse_special};
  TS_ASSIGN_OR_RETURN(std::vector<std::int32_t> ids,
                      impl_->model->tokenizer->Encode(prompt, encode));
  return impl_->Generate(std::move(ids), options, on_token, cancel);
}

Result<GenerateResult> Session::Generate(std::span<const std::int32_t> prompt_ids,
                                         const GenerateOptions& options,
                                         const TokenCallback& on_token,
                                         const CancellationToken* cancel) {
  TS_RETURN_IF_ERROR(ValidateOptions(options));
  return impl_->Generate(std::vector<std::int32_t>(prompt_ids.begin(), prompt_ids.end()), options,
                         on_token, cancel);
}

Status Session::Impl::CheckIds(std::span<const std::int32_t> ids, const char* what) const {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= model->n_vocab) {
      return OutOfRange("engine: " + std::string(what) + " token id " + std::to_string(ids[i]) +
                        " at index " + std::to_string(i) + " is outside the vocabulary [0, " +
                        std::to_string(model->n_vocab) + ")");
    }
  }
  return Status::Ok();
}

Result<GenerateResult> Session::Impl::Generate(std::vector<std::int32_t> prompt_ids,
                                               const GenerateOptions& options,
                                               const TokenCallback& on_token,
                                               const CancellationToken* cancel) {
  // Checks first: on any error below the session is unchanged.
  if (prompt_ids.empty()) return InvalidArgument("engine: prompt is empty");
  TS_RETURN_IF_ERROR(CheckIds(prompt_ids, "prompt"));
  const std::size_t n_ctx = static_cast<std::size_t>(kv.n_ctx());
  const std::size_t n_used = tokens.size();
  if (prompt_ids.size() > n_ctx - n_used) {
    return OutOfRange("engine: prompt has " + std::to_string(prompt_ids.size()) +
                      " tokens but the context n_ctx " + std::to_string(n_ctx) + " has " +
                      std::to_string(n_ctx - n_used) + " free (" + std::to_string(n_used) +
                      " in use)");
  }
  TS_RETURN_IF_ERROR(sampler.Reconfigure(ToSamplerConfig(options)));

  GenerateResult result;
  result.prompt_ids = std::move(prompt_ids);
  const std::span<const std::int32_t> prompt = result.prompt_ids;

  // Everything the decode loop writes is reserved here, so the loop does not allocate: at most
  // `room` tokens can be generated, each adding at most max_piece_bytes of text (StreamDecoder
  // output is exactly the concatenated pieces) and top_n alternatives. The session's tokens,
  // logits, KV cache, scratch and sampler buffers were sized at NewSession(). (The tokenizer's
  // StreamDecoder::Push returns a std::string, which allocates only for pieces longer than the
  // small-string buffer.)
  const std::size_t room = n_ctx - n_used - prompt.size();
  const std::size_t n_reserve = std::min(static_cast<std::size_t>(options.max_tokens), room);
  result.tokens.reserve(n_reserve);
  result.alternatives.reserve(n_reserve * static_cast<std::size_t>(options.top_n));
  result.text.reserve(n_reserve * model->max_piece_bytes);
  tokenizer::StreamDecoder decoder(*model->tokenizer);

  // The prompt joins the conversation even if cancelled before prefill (evaluated later).
  tokens.insert(tokens.end(), prompt.begin(), prompt.end());
  if (cancel != nullptr && cancel->cancelled()) {
    result.stop_reason = StopReason::kCancelled;
    return result;
  }

  // Prefill: every token not yet in the KV cache, in one batch; logits of the last one only.
  batch.assign(tokens.begin() + n_evaluated, tokens.end());
  const Clock::time_point prefill_start = Clock::now();
  if (Status st = Forward(batch, n_evaluated, model::LogitsMode::kLast, logits);
      !st.ok()) {
    tokens.resize(n_used);  // n_evaluated is unchanged; the cache rows past it are unused
    return st.WithContext("engine: prefill");
  }
  n_evaluated = static_cast<std::int32_t>(tokens.size());
  const Clock::time_point decode_start = Clock::now();
  result.timings.prompt_tokens = static_cast<std::int32_t>(batch.size());
  result.timings.prefill_seconds = Seconds(decode_start - prefill_start);

  // Decode: logits hold the next-token distribution at the top of each iteration.
  const tokenizer::Tokenizer& tok = *model->tokenizer;
  std::int32_t generated = 0;
  StopReason reason = StopReason::kMaxTokens;
  while (true) {
    if (generated == options.max_tokens) {
      reason = StopReason::kMaxTokens;
      break;
    }
    if (tokens.size() >= n_ctx) {
      reason = StopReason::kContextFull;
      break;
    }
    if (cancel != nullptr && cancel->cancelled()) {
      reason = StopReason::kCancelled;
      break;
    }
    const engine::SampledToken sampled = sampler.Sample(logits);
    tokens.push_back(sampled.id);  // within the reserved n_ctx
    ++generated;
    const bool end_of_generation = tok.IsEndOfGeneration(sampled.id);
    const bool last =
        end_of_generation || generated == options.max_tokens || tokens.size() >= n_ctx;

    GeneratedToken& out = result.tokens.emplace_back();
    out.id = sampled.id;
    out.logprob = sampled.logprob;
    out.text_offset = result.text.size();
    if (!end_of_generation) result.text += decoder.Push(sampled.id);
    if (last) result.text += decoder.Flush();  // the final piece carries any held-back bytes
    out.text_size = result.text.size() - out.text_offset;
    out.alternatives_offset = result.alternatives.size();
    for (const engine::TokenLogprob& alt : sampled.alternatives) {
      result.alternatives.push_back(TokenLogprob{alt.id, alt.logprob});
    }
    out.alternatives_size = sampled.alternatives.size();

    bool keep_going = true;
    if (on_token) {
      const TokenEvent event{.index = generated - 1,
                             .id = out.id,
                             .text = result.TokenText(result.tokens.size() - 1),
                             .logprob = out.logprob,
                             .alternatives = result.Alternatives(result.tokens.size() - 1)};
      keep_going = on_token(event);
    }
    if (end_of_generation) {
      reason = StopReason::kEndOfGeneration;
      break;
    }
    if (!keep_going) {
      reason = StopReason::kCancelled;
      break;
    }
    if (last) continue;  // the loop head names the reason; this token is evaluated next call

    if (Status st = Forward(std::span<const std::int32_t>(&tokens.back(), 1), n_evaluated,
                            model::LogitsMode::kLast, logits);
        !st.ok()) {
      Reset();
      return st.WithContext("engine: decode (session reset)");
    }
    ++n_evaluated;
  }
  // A cancelled stream may stop inside a character: its held-back bytes end the text.
  const std::string rest = decoder.Flush();
  if (!rest.empty()) {
    result.text += rest;
    result.tokens.back().text_size += rest.size();
  }

  const double decode_seconds = Seconds(Clock::now() - decode_start);
  result.stop_reason = reason;
  result.timings.decode_tokens = generated;
  result.timings.decode_seconds = decode_seconds;
  if (result.timings.prefill_seconds > 0.0) {
    result.timings.prefill_tokens_per_second =
        result.timings.prompt_tokens / result.timings.prefill_seconds;
  }
  if (decode_seconds > 0.0) result.timings.decode_tokens_per_second = generated / decode_seconds;
  return result;
}

}  // namespace tessera
