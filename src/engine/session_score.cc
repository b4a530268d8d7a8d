// Session::Score and Session::ScoreChoices: teacher-forced log-probabilities of continuations
// after a prompt.
//
// Token t at position i (i >= P, P = prompt length) is scored by row i - 1 of the logits of the
// sequence prompt + continuation. The prompt except its last token is evaluated with kLast
// logits (those rows are not needed); the rest, prompt[P-1] + continuation[0, C-1), runs with
// kAll logits in chunks of kScoreChunk tokens so the logits buffer stays at
// kScoreChunk * n_vocab floats (one Forward call when C <= kScoreChunk). The last continuation
// token is not run: nothing scores a token after it, and the next Generate() evaluates it.
//
// ScoreChoices evaluates prompt[0, P-1) once, then for each choice makes the same Forward calls
// from position P-1 as Score would: every choice's keys and values overwrite the previous
// choice's, and its logits are bit-identical to Score's, because the calls (and so the batch
// sizes the kernels see) are the same.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/logprobs.h"
#include "engine/model_impl.h"

namespace tessera {

Result<ScoreResult> Session::Score(std::span<const std::int32_t> prompt_ids,
                                   std::span<const std::int32_t> continuation_ids,
                                   std::int32_t top_n) {
  return impl_->Score(prompt_ids, continuation_ids, top_n);
}

Result<std::vector<ScoreResult>> Session::ScoreChoices(
    std::span<const std::int32_t> prompt_ids, std::span<const std::vector<std::int32_t>> choices,
    std::int32_t top_n) {
  return impl_->ScoreChoices(prompt_ids, choices, top_n);
}

Status Session::Impl::CheckScoreInput(std::span<const std::int32_t> prompt_ids,
                                      std::span<const std::int32_t> continuation_ids,
                                      std::int32_t top_n, const std::string& what) const {
  if (top_n < 0 || top_n > engine::kMaxTopN) {
    return InvalidArgument("engine: top_n " + std::to_string(top_n) + " is outside [0, " +
                           std::to_string(engine::kMaxTopN) + "]");
  }
  if (prompt_ids.empty()) {
    return InvalidArgument(
        "engine: score prompt is empty; the first continuation token needs a context (BOS "
        "counts as prompt)");
  }
  if (continuation_ids.empty()) return InvalidArgument("engine: score " + what + " is empty");
  TS_RETURN_IF_ERROR(CheckIds(prompt_ids, "prompt"));
  TS_RETURN_IF_ERROR(CheckIds(continuation_ids, what.c_str()));
  const std::size_t n_prompt = prompt_ids.size();
  const std::size_t n_cont = continuation_ids.size();
  const std::size_t n_ctx = static_cast<std::size_t>(kv.n_ctx());
  if (n_prompt + n_cont > n_ctx) {
    return OutOfRange("engine: prompt (" + std::to_string(n_prompt) + " tokens) + " + what + " (" +
                      std::to_string(n_cont) + " tokens) exceeds the context n_ctx " +
                      std::to_string(n_ctx));
  }
  return Status::Ok();
}

Status Session::Impl::EvaluatePromptHead(std::size_t n_prompt) {
  if (n_prompt <= 1) return Status::Ok();
  const std::span<const std::int32_t> head(tokens.data(), n_prompt - 1);
  return Forward(head, 0, model::LogitsMode::kLast, logits);
}

Status Session::Impl::ScoreContinuation(std::size_t n_prompt, std::size_t n_cont,
                                        std::span<float> rows, std::span<engine::TokenLogprob> top,
                                        ScoreResult& result) {
  const auto n_vocab = static_cast<std::size_t>(model->n_vocab);
  const std::size_t chunk = std::min<std::size_t>(n_cont, kScoreChunk);
  result.tokens.reserve(n_cont);
  result.alternatives.reserve(n_cont * top.size());
  const std::size_t end = n_prompt + n_cont - 1;  // positions [n_prompt - 1, end) predict
  for (std::size_t pos = n_prompt - 1; pos < end;) {
    const std::size_t m = std::min(chunk, end - pos);
    const std::span<const std::int32_t> batch_ids(tokens.data() + pos, m);
    TS_RETURN_IF_ERROR(Forward(batch_ids, static_cast<std::int32_t>(pos), model::LogitsMode::kAll,
                               rows.first(m * n_vocab)));
    for (std::size_t j = 0; j < m; ++j) {
      const std::span<const float> row(rows.data() + j * n_vocab, n_vocab);
      const std::int32_t target = tokens[pos + j + 1];
      const double log_z = engine::LogSumExp(row);
      ScoredToken& out = result.tokens.emplace_back();
      out.id = target;
      out.logprob =
          static_cast<float>(static_cast<double>(row[static_cast<std::size_t>(target)]) - log_z);
      out.alternatives_offset = result.alternatives.size();
      out.alternatives_size = engine::TopLogprobs(row, log_z, top);
      for (std::size_t k = 0; k < out.alternatives_size; ++k) {
        result.alternatives.push_back(TokenLogprob{top[k].id, top[k].logprob});
      }
      result.sum_logprob += out.logprob;
    }
    pos += m;
  }
  n_evaluated = static_cast<std::int32_t>(end);
  result.perplexity = std::exp(-result.sum_logprob / static_cast<double>(n_cont));
  return Status::Ok();
}

Result<ScoreResult> Session::Impl::Score(std::span<const std::int32_t> prompt_ids,
                                         std::span<const std::int32_t> continuation_ids,
                                         std::int32_t top_n) {
  // Checks first: on any error here the session is unchanged.
  TS_RETURN_IF_ERROR(CheckScoreInput(prompt_ids, continuation_ids, top_n, "continuation"));
  const std::size_t n_prompt = prompt_ids.size();
  const std::size_t n_cont = continuation_ids.size();

  Reset();
  tokens.insert(tokens.end(), prompt_ids.begin(), prompt_ids.end());
  tokens.insert(tokens.end(), continuation_ids.begin(), continuation_ids.end());

  const auto n_vocab = static_cast<std::size_t>(model->n_vocab);
  std::vector<float> rows(std::min<std::size_t>(n_cont, kScoreChunk) *
                          n_vocab);  // [chunk, n_vocab]
  std::vector<engine::TokenLogprob> top(static_cast<std::size_t>(top_n));
  ScoreResult result;
  Status st = EvaluatePromptHead(n_prompt);
  if (st.ok()) st = ScoreContinuation(n_prompt, n_cont, rows, top, result);
  if (!st.ok()) {
    Reset();
    return st.WithContext("engine: score (session reset)");
  }
  return result;
}

Result<std::vector<ScoreResult>> Session::Impl::ScoreChoices(
    std::span<const std::int32_t> prompt_ids, std::span<const std::vector<std::int32_t>> choices,
    std::int32_t top_n) {
  // Checks first, of every choice: on any error here the session is unchanged.
  if (choices.empty()) return InvalidArgument("engine: score choices: no choices given");
  if (choices.size() > static_cast<std::size_t>(Session::kMaxChoices)) {
    return OutOfRange("engine: score choices: " + std::to_string(choices.size()) +
                      " choices, more than the limit " + std::to_string(Session::kMaxChoices));
  }
  std::size_t longest = 0;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    TS_RETURN_IF_ERROR(
        CheckScoreInput(prompt_ids, choices[i], top_n, "choice " + std::to_string(i)));
    longest = std::max(longest, choices[i].size());
  }
  const std::size_t n_prompt = prompt_ids.size();

  Reset();
  tokens.insert(tokens.end(), prompt_ids.begin(), prompt_ids.end());
  const auto n_vocab = static_cast<std::size_t>(model->n_vocab);
  std::vector<float> rows(std::min<std::size_t>(longest, kScoreChunk) * n_vocab);
  std::vector<engine::TokenLogprob> top(static_cast<std::size_t>(top_n));
  std::vector<ScoreResult> results(choices.size());
  Status st = EvaluatePromptHead(n_prompt);
  for (std::size_t i = 0; i < choices.size() && st.ok(); ++i) {
    tokens.resize(n_prompt);  // the previous choice's positions are overwritten
    tokens.insert(tokens.end(), choices[i].begin(), choices[i].end());
    st = ScoreContinuation(n_prompt, choices[i].size(), rows, top, results[i]);
  }
  if (!st.ok()) {
    Reset();
    return st.WithContext("engine: score choices (session reset)");
  }
  return results;
}

}  // namespace tessera
