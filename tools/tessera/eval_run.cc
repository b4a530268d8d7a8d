// Running `tessera eval` cases (eval_run.h).
#include "eval_run.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace tessera::cli {
namespace {

using Clock = std::chrono::steady_clock;  // measurement only

std::string CaseName(const EvalCase& c) {
  return "eval: case \"" + c.id + "\" (line " + std::to_string(c.line) + ")";
}

// The answer's tokens in context, plus EOS (see eval_run.h), and the prompt they follow.
struct ScoredSplit {
  std::vector<std::int32_t> prompt;
  std::vector<std::int32_t> answer;
};

Result<ScoredSplit> SplitAnswer(const Model& model, const std::string& prompt,
                                const std::string& answer,
                                const std::vector<std::int32_t>& prompt_ids) {
  TS_ASSIGN_OR_RETURN(std::vector<std::int32_t> whole,
                      model.Tokenize(prompt + answer, /*add_bos=*/true, false));
  std::size_t shared = 0;
  while (shared < prompt_ids.size() && shared < whole.size() &&
         prompt_ids[shared] == whole[shared]) {
    ++shared;
  }
  ScoredSplit s;
  s.prompt.assign(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(shared));
  s.answer.assign(whole.begin() + static_cast<std::ptrdiff_t>(shared), whole.end());
  if (model.eos_id() >= 0) s.answer.push_back(model.eos_id());
  return s;
}

Status RunCase(const Model& model, Session& session, const EvalCase& c, std::int32_t max_tokens,
               CaseResult& out) {
  out.eval_case = &c;
  TS_ASSIGN_OR_RETURN(std::vector<std::int32_t> prompt_ids,
                      model.Tokenize(c.prompt, /*add_bos=*/true, /*parse_special=*/false));
  if (prompt_ids.empty()) {
    return InvalidArgument("the prompt has no tokens (and the model adds no BOS)");
  }
  GenerateOptions options;
  options.max_tokens = max_tokens;
  options.temperature = 0.0f;
  session.Reset();
  const Clock::time_point start = Clock::now();
  TS_ASSIGN_OR_RETURN(GenerateResult g, session.Generate(prompt_ids, options));
  out.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  out.got = std::move(g.text);
  out.match = out.got == c.answer;
  out.stop_reason = g.stop_reason;
  out.prompt_tokens = g.timings.prompt_tokens;
  out.prefill_seconds = g.timings.prefill_seconds;
  out.decode_tokens = g.timings.decode_tokens;
  out.decode_seconds = g.timings.decode_seconds;

  TS_ASSIGN_OR_RETURN(ScoredSplit split, SplitAnswer(model, c.prompt, c.answer, prompt_ids));
  if (split.prompt.empty()) return InvalidArgument("the prompt shares no token with prompt+answer");
  if (split.answer.empty()) {
    out.answer_tokens = 0;  // empty answer and no EOS: nothing to score
    return Status::Ok();
  }
  session.Reset();
  TS_ASSIGN_OR_RETURN(ScoreResult s, session.Score(split.prompt, split.answer));
  out.answer_tokens = static_cast<std::int32_t>(s.tokens.size());
  out.answer_logprob = s.sum_logprob / static_cast<double>(s.tokens.size());
  return Status::Ok();
}

// Step 2' of eval_run.h: every label scored, the best one is the answer.
Status RunLabelCase(const Model& model, Session& session, const EvalCase& c,
                    std::span<const std::string> labels, CaseResult& out) {
  out.eval_case = &c;
  const auto expected = std::find(labels.begin(), labels.end(), c.answer);
  if (expected == labels.end()) {
    return InvalidArgument("the answer \"" + c.answer + "\" is not one of the --labels");
  }
  TS_ASSIGN_OR_RETURN(std::vector<std::int32_t> prompt_ids,
                      model.Tokenize(c.prompt, /*add_bos=*/true, /*parse_special=*/false));
  if (prompt_ids.empty()) {
    return InvalidArgument("the prompt has no tokens (and the model adds no BOS)");
  }
  out.prompt_tokens = static_cast<std::int32_t>(prompt_ids.size());
  const Clock::time_point start = Clock::now();
  std::size_t best = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    TS_ASSIGN_OR_RETURN(ScoredSplit split, SplitAnswer(model, c.prompt, labels[i], prompt_ids));
    if (split.prompt.empty() || split.answer.empty()) {
      return InvalidArgument("the label \"" + labels[i] +
                             "\" has no token to score after the prompt");
    }
    session.Reset();
    TS_ASSIGN_OR_RETURN(ScoreResult s, session.Score(split.prompt, split.answer));
    out.label_logprobs.push_back(s.sum_logprob);
    if (s.sum_logprob > out.label_logprobs[best]) best = i;
    if (labels.begin() + static_cast<std::ptrdiff_t>(i) == expected) {
      out.answer_tokens = static_cast<std::int32_t>(s.tokens.size());
      out.answer_logprob = s.sum_logprob / static_cast<double>(s.tokens.size());
    }
  }
  out.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  out.got = labels[best];
  out.match = out.got == c.answer;
  out.stop_reason = StopReason::kEndOfGeneration;  // a label ends with EOS
  return Status::Ok();
}

}  // namespace

Result<std::int32_t> DefaultMaxTokens(const Model& model, std::span<const EvalCase> cases) {
  std::size_t longest = 0;
  for (const EvalCase& c : cases) {
    Result<std::vector<std::int32_t>> ids = model.Tokenize(c.answer, false, false);
    if (!ids.ok()) return ids.status().WithContext(CaseName(c) + ": answer");
    longest = std::max(longest, ids->size());
  }
  return static_cast<std::int32_t>(std::max<std::size_t>(64, longest + 16));
}

Result<EvalRun> RunEval(const Model& model, Session& session, std::span<const EvalCase> cases,
                        std::int32_t max_tokens, std::span<const std::string> labels) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].empty())
      return InvalidArgument("eval: --labels: label " + std::to_string(i + 1) + " is empty");
    if (std::find(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), labels[i]) !=
        labels.begin() + static_cast<std::ptrdiff_t>(i)) {
      return InvalidArgument("eval: --labels: \"" + labels[i] + "\" is listed twice");
    }
  }
  EvalRun run;
  run.labels.assign(labels.begin(), labels.end());
  if (labels.empty()) {
    if (max_tokens < 1) {
      return InvalidArgument("eval: max tokens " + std::to_string(max_tokens) + " must be >= 1");
    }
    run.max_tokens = max_tokens;
  }
  run.cases.resize(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Status st = labels.empty() ? RunCase(model, session, cases[i], max_tokens, run.cases[i])
                                     : RunLabelCase(model, session, cases[i], labels, run.cases[i]);
    if (!st.ok()) return st.WithContext(CaseName(cases[i]));
  }
  session.Reset();
  return run;
}

}  // namespace tessera::cli
