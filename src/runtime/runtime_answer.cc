// tessera::Runtime: answers under a package's contract, label scores and embeddings.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "base/ascii.h"
#include "base/utf8.h"
#include "package/safe_regex.h"
#include "runtime/runtime_impl.h"

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The module's prompt for `input` under its contract, tokenized (BOS as the vocabulary asks),
// within max_input_tokens.
struct Prompt {
  std::string text;
  std::vector<std::int32_t> ids;
};

Result<Prompt> ContractPrompt(const SessionState& s, std::string_view input) {
  TS_RETURN_IF_ERROR(base::ValidateUtf8(input).WithContext("runtime: input"));
  const package::Manifest& m = *s.manifest;
  const package::Contract& c = m.contract;
  // v2: the request as a person typed it, trimmed, into the template; v1: as given.
  const std::string request(m.schema_version >= 2 ? base::TrimAsciiSpace(input) : input);
  if (base::TrimAsciiSpace(request).empty()) return InvalidArgument("runtime: input is empty");
  if (c.input.kind == package::IoKind::kText && !c.input.pattern.empty()) {
    Result<package::SafeRegex> re = package::SafeRegex::Compile(c.input.pattern);
    if (!re.ok()) return re.status().WithContext("runtime: the contract's input pattern");
    if (!re->Search(request)) {
      return OutOfRange("runtime: the input is outside the domain of " + m.id + "@" +
                        m.version.ToString() + ": it does not match the contract's input pattern " +
                        c.input.pattern);
    }
  }
  Prompt p;
  TS_ASSIGN_OR_RETURN(p.text, package::ApplyPromptTemplate(c, request));
  TS_ASSIGN_OR_RETURN(p.ids, s.module->model->Tokenize(p.text, /*add_bos=*/true, false));
  if (c.max_input_tokens != 0 && p.ids.size() > c.max_input_tokens) {
    return OutOfRange("runtime: the input is " + std::to_string(p.ids.size()) +
                      " tokens with its prompt template; the contract of " + m.id + "@" +
                      m.version.ToString() + " allows " + std::to_string(c.max_input_tokens) +
                      " (max_input_tokens)");
  }
  if (p.ids.empty()) return InvalidArgument("runtime: the prompt has no tokens");
  return p;
}

bool Typed(const package::IoType& t) {
  return t.kind != package::IoKind::kText || !t.pattern.empty();
}

// Each label's tokens in context (tokenizing prompt + label, as `tessera eval` does) + EOS, and
// the prompt prefix they share.
struct Choices {
  std::vector<std::int32_t> prompt;
  std::vector<std::vector<std::int32_t>> labels;
};

Result<Choices> LabelChoices(const Model& model, const Prompt& p,
                             const std::vector<std::string>& labels) {
  std::vector<std::vector<std::int32_t>> whole;
  std::size_t shared = p.ids.size();
  for (const std::string& label : labels) {
    TS_ASSIGN_OR_RETURN(std::vector<std::int32_t> ids, model.Tokenize(p.text + label, true, false));
    std::size_t k = 0;
    while (k < p.ids.size() && k < ids.size() && ids[k] == p.ids[k]) ++k;
    shared = std::min(shared, k);
    whole.push_back(std::move(ids));
  }
  if (shared == 0) return Internal("runtime: no prompt token is shared by every label");
  Choices c;
  c.prompt.assign(p.ids.begin(), p.ids.begin() + static_cast<std::ptrdiff_t>(shared));
  for (std::vector<std::int32_t>& ids : whole) {
    std::vector<std::int32_t> tail(ids.begin() + static_cast<std::ptrdiff_t>(shared), ids.end());
    if (model.eos_id() >= 0) tail.push_back(model.eos_id());
    if (tail.empty()) return Internal("runtime: a label has no tokens and the model no EOS");
    c.labels.push_back(std::move(tail));
  }
  return c;
}

Result<LabelScores> Score(Runtime::Impl& impl, SessionState& s, const Prompt& p) {
  const package::IoType& out = s.manifest->contract.output;
  if (out.kind != package::IoKind::kEnum) {
    return Status(StatusCode::kFailedPrecondition,
                  "runtime: " + s.manifest->id + "'s contract output is " +
                      std::string(package::IoKindName(out.kind)) + ", not an enum to score");
  }
  const auto t0 = Clock::now();
  TS_ASSIGN_OR_RETURN(Choices c, LabelChoices(*s.module->model, p, out.labels));
  TS_ASSIGN_OR_RETURN(resident::ResidentSet::Slot slot, impl.set->EnterParallel(s.lease));
  ++impl.activity;
  Result<std::vector<ScoreResult>> scored = s.session->ScoreChoices(c.prompt, c.labels);
  ++impl.activity;
  TS_ASSIGN_OR_RETURN(std::vector<ScoreResult> results, std::move(scored));
  LabelScores r;
  r.labels = out.labels;
  r.prompt_tokens = static_cast<std::int32_t>(c.prompt.size());
  double max = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < results.size(); ++i) {
    r.logprobs.push_back(results[i].sum_logprob);
    r.scored_tokens += static_cast<std::int32_t>(c.labels[i].size());
    max = std::max(max, results[i].sum_logprob);
  }
  const bool nan = std::any_of(r.logprobs.begin(), r.logprobs.end(),
                               [](double lp) { return std::isnan(lp); });
  if (nan || !std::isfinite(max)) {  // a NaN, or every label impossible: no distribution
    return Status(StatusCode::kInternal, "runtime: " + s.manifest->id +
                                             " gave no finite score to any of its labels");
  }
  double sum = 0;
  for (double lp : r.logprobs) sum += std::exp(lp - max);
  for (double lp : r.logprobs) r.probabilities.push_back(std::exp(lp - max) / sum);
  r.seconds = Since(t0);
  return r;
}

// An enum answer: the most probable label (first in the contract's order among equals).
SkillAnswer FromLabels(const LabelScores& scores) {
  SkillAnswer a;
  std::size_t best = 0;
  for (std::size_t i = 1; i < scores.labels.size(); ++i) {
    if (scores.probabilities[i] > scores.probabilities[best]) best = i;
  }
  double second = 0;
  for (std::size_t i = 0; i < scores.labels.size(); ++i) {
    if (i != best) second = std::max(second, scores.probabilities[i]);
  }
  a.text = scores.labels[best];
  a.valid = true;
  a.stop_reason = "labels";
  a.prompt_tokens = scores.prompt_tokens;
  a.output_tokens = scores.scored_tokens;
  a.measure = "label-probability";
  a.confidence = std::log(scores.probabilities[best]);
  a.mean_logprob = scores.logprobs[best];
  a.min_logprob = scores.logprobs[best];
  a.min_margin = second > 0 ? a.confidence - std::log(second) : 0;
  a.seconds = scores.seconds;
  return a;
}

SkillAnswer FromGeneration(const package::Contract& c, const GenerateResult& g) {
  SkillAnswer a;
  a.text = g.text;
  a.stop_reason = std::string(StopReasonName(g.stop_reason));
  a.prompt_tokens = g.timings.prompt_tokens;
  a.output_tokens = static_cast<std::int32_t>(g.tokens.size());
  double sum = 0;
  double min = 0;
  double margin = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < g.tokens.size(); ++i) {
    const double lp = g.tokens[i].logprob;
    sum += lp;
    min = i == 0 ? lp : std::min(min, lp);
    for (const TokenLogprob& alt : g.Alternatives(i)) {
      if (alt.id != g.tokens[i].id) {
        margin = std::min(margin, lp - static_cast<double>(alt.logprob));
        break;
      }
    }
  }
  a.mean_logprob = g.tokens.empty() ? 0 : sum / static_cast<double>(g.tokens.size());
  a.min_logprob = min;
  a.min_margin = std::isfinite(margin) ? margin : 0;
  a.measure = std::string(package::ConfidenceKindName(c.confidence));
  a.confidence = c.confidence == package::ConfidenceKind::kMeanTokenLogprob  ? a.mean_logprob
                 : c.confidence == package::ConfidenceKind::kMinTokenLogprob ? a.min_logprob
                                                                             : 0.0;
  if (g.stop_reason == StopReason::kMaxTokens && Typed(c.output)) {
    a.failure = "stopped at max_output_tokens (" + std::to_string(c.max_output_tokens) +
                ") before the answer ended";
  } else if (g.stop_reason == StopReason::kContextFull && Typed(c.output)) {
    a.failure = "the context filled up before the answer ended";
  } else if (Status st = package::CheckOutputType(c.output, a.text); !st.ok()) {
    a.failure = st.message();
  }
  a.valid = a.failure.empty();
  return a;
}

}  // namespace

Result<SkillAnswer> Runtime::Answer(SessionHandle session, std::string_view input,
                                    const CancellationToken* cancel) {
  std::unique_lock<std::mutex> lock;
  TS_ASSIGN_OR_RETURN(std::shared_ptr<SessionState> state, impl_->LockedSession(session, lock));
  TS_ASSIGN_OR_RETURN(Prompt p, ContractPrompt(*state, input));
  const package::Contract& c = state->manifest->contract;
  SkillAnswer a;
  if (c.output.kind == package::IoKind::kEnum) {
    TS_ASSIGN_OR_RETURN(LabelScores scores, Score(*impl_, *state, p));
    a = FromLabels(scores);
  } else {
    const auto t0 = Clock::now();
    GenerateOptions g;
    g.max_tokens = static_cast<std::int32_t>(std::min<std::uint64_t>(c.max_output_tokens, 1 << 20));
    g.temperature = static_cast<float>(c.sampling.temperature);
    g.top_k = static_cast<std::int32_t>(std::min<std::uint64_t>(c.sampling.top_k, 1 << 30));
    g.top_p = static_cast<float>(c.sampling.top_p);
    g.seed = c.sampling.seed;
    g.top_n = 2;  // the best alternative of each token: the margin
    TS_ASSIGN_OR_RETURN(resident::ResidentSet::Slot slot, impl_->set->EnterParallel(state->lease));
    state->session->Reset();
    ++impl_->activity;
    Result<GenerateResult> generated = state->session->Generate(p.ids, g, {}, cancel);
    ++impl_->activity;
    TS_ASSIGN_OR_RETURN(GenerateResult result, std::move(generated));
    a = FromGeneration(c, result);
    a.seconds = Since(t0);
  }
  state->transcript.push_back({std::string(input), a.text});
  return a;
}

Result<LabelScores> Runtime::ScoreLabels(SessionHandle session, std::string_view input) {
  std::unique_lock<std::mutex> lock;
  TS_ASSIGN_OR_RETURN(std::shared_ptr<SessionState> state, impl_->LockedSession(session, lock));
  TS_ASSIGN_OR_RETURN(Prompt p, ContractPrompt(*state, input));
  return Score(*impl_, *state, p);
}

Result<std::vector<float>> Runtime::Embed(SessionHandle session, std::string_view text) {
  std::unique_lock<std::mutex> lock;
  TS_ASSIGN_OR_RETURN(std::shared_ptr<SessionState> state, impl_->LockedSession(session, lock));
  TS_RETURN_IF_ERROR(base::ValidateUtf8(text).WithContext("runtime: text"));
  if (base::TrimAsciiSpace(text).empty()) return InvalidArgument("runtime: the text to embed is empty");
  TS_ASSIGN_OR_RETURN(std::vector<std::int32_t> ids,
                      state->module->model->Tokenize(text, /*add_bos=*/true, false));
  TS_ASSIGN_OR_RETURN(resident::ResidentSet::Slot slot, impl_->set->EnterParallel(state->lease));
  ++impl_->activity;
  Result<std::vector<float>> v = state->session->Embed(ids);
  ++impl_->activity;
  return v;
}

}  // namespace tessera
