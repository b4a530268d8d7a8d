// Running an evaluation set (eval_set.h) on one session of a model: greedy generation with exact
// match, and teacher-forced scoring of the expected answer.
//
// Per case, on a session that is reset first (so every case starts empty):
//   1. prompt_ids = Model::Tokenize(prompt, add_bos=true, parse_special=false).
//   2. Greedy generation (temperature 0) from prompt_ids, up to max_tokens, stopping at an
//      end-of-generation token. `got` is the generated text without that token; the case
//      matches when got == answer, byte for byte. Latency is the wall time of this call.
//   3. Answer log-probability, teacher-forced: the answer's tokens are those of
//      Tokenize(prompt + answer, add_bos=true) after the longest prefix shared with prompt_ids
//      (as `tessera score` and evaluation harnesses split a continuation, so that a
//      SentencePiece vocabulary does not add its word-start space to the answer alone), followed
//      by the model's EOS token (when it has one). answer_logprob is the mean natural-log
//      probability of those tokens: sum over the answer tokens and the EOS of log p(token |
//      every token before it), divided by their count.
// With labels (`tessera eval --labels`, a classifier such as the router), step 2 is replaced:
//   2'. Every label is scored as the answer is in step 3 (its tokens after the prompt, plus EOS),
//       as the orchestrator's label router scores them, never generated. `got` is the label with
//       the largest total log-probability (ties: the first in the list), so a classifier can
//       only answer a real label; label_logprobs holds each label's total. Latency is the wall
//       time of scoring every label; decode figures are 0.
// Errors name the case's id and line: a prompt that yields no tokens, or one that (with its
// answer) does not fit the context, is refused rather than skipped; with labels, so is an
// expected answer that is not one of them.
#ifndef TESSERA_TOOLS_TESSERA_EVAL_RUN_H_
#define TESSERA_TOOLS_TESSERA_EVAL_RUN_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "eval_set.h"
#include "tessera/engine.h"
#include "tessera/status.h"

namespace tessera::cli {

struct CaseResult {
  const EvalCase* eval_case = nullptr;  // borrowed from the set
  std::string got;                      // generated text, without the end-of-generation token
  bool match = false;
  StopReason stop_reason = StopReason::kMaxTokens;
  double latency_ms = 0.0;  // wall time of the generation
  std::int32_t prompt_tokens = 0;
  double prefill_seconds = 0.0;
  std::int32_t decode_tokens = 0;  // generated tokens, an end-of-generation token included
  double decode_seconds = 0.0;
  std::int32_t answer_tokens = 0;  // scored tokens: the answer's, plus EOS
  double answer_logprob = 0.0;     // mean natural-log probability per scored token
  std::vector<double> label_logprobs;  // with labels: each label's total, in label order
};

struct EvalRun {
  std::int32_t max_tokens = 0;      // the generation limit used (0 with labels)
  std::vector<std::string> labels;  // empty: generation; else the classifier's labels
  std::vector<CaseResult> cases;
};

// The default generation limit: 64, or the longest answer's token count + 16 when larger.
Result<std::int32_t> DefaultMaxTokens(const Model& model, std::span<const EvalCase> cases);

// Runs every case on `session` (reset before each). max_tokens: >= 1 (ignored with labels).
// labels: empty for generation; else distinct, non-empty labels to score (step 2').
Result<EvalRun> RunEval(const Model& model, Session& session, std::span<const EvalCase> cases,
                        std::int32_t max_tokens, std::span<const std::string> labels = {});

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_EVAL_RUN_H_
