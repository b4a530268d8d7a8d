// Session::Embed: the mean of the final normed hidden states of a token sequence.
//
// The ids run from position 0 in chunks of the scratch's max_batch tokens with
// LogitsMode::kHidden; each chunk's rows [m, n_embd] land in the session's `hidden` buffer and
// are summed per dimension in double into `hidden_sum`, so a sequence of any length up to n_ctx
// needs no buffer beyond those two. The mean is rounded to float once, at the end.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/model_impl.h"

namespace tessera {

Result<std::vector<float>> Session::Embed(std::span<const std::int32_t> ids) {
  return impl_->Embed(ids);
}

Result<std::vector<float>> Session::Impl::Embed(std::span<const std::int32_t> ids) {
  // Checks first: on any error here the session is unchanged.
  if (ids.empty()) return InvalidArgument("engine: embed ids are empty");
  TS_RETURN_IF_ERROR(CheckIds(ids, "embed"));
  const std::size_t n = ids.size();
  const auto n_ctx = static_cast<std::size_t>(kv.n_ctx());
  if (n > n_ctx) {
    return OutOfRange("engine: embed has " + std::to_string(n) +
                      " tokens, more than the context n_ctx " + std::to_string(n_ctx));
  }

  Reset();
  tokens.assign(ids.begin(), ids.end());  // within the reserved n_ctx
  const auto n_embd = static_cast<std::size_t>(model->llama->config().n_embd);
  const auto chunk = static_cast<std::size_t>(scratch.max_batch());
  std::fill(hidden_sum.begin(), hidden_sum.end(), 0.0);
  for (std::size_t first = 0; first < n; first += chunk) {
    const std::size_t m = std::min(chunk, n - first);
    if (Status st =
            Forward(ids.subspan(first, m), static_cast<std::int32_t>(first),
                    model::LogitsMode::kHidden, std::span<float>(hidden.data(), m * n_embd));
        !st.ok()) {
      Reset();
      return st.WithContext("engine: embed (session reset)");
    }
    for (std::size_t t = 0; t < m; ++t) {
      const float* row = hidden.data() + t * n_embd;  // [n_embd]
      for (std::size_t j = 0; j < n_embd; ++j) hidden_sum[j] += row[j];
    }
    n_evaluated = static_cast<std::int32_t>(first + m);
  }
  std::vector<float> mean(n_embd);
  for (std::size_t j = 0; j < n_embd; ++j) {
    mean[j] = static_cast<float>(hidden_sum[j] / static_cast<double>(n));
  }
  return mean;
}

}  // namespace tessera
