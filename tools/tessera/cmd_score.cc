// tessera score -m FILE (-p PROMPT -c CONTINUATION | --prompt-ids 1,2 --continuation-ids 3,4)
//               [--json] [--top-n N] [--no-bos] [-t THREADS]
//
// Prints the log-probability of each continuation token given everything before it, the top-N
// alternatives at each position, their sum and the perplexity.
//
// With text, the prompt and continuation are tokenized together (as evaluation harnesses do, so
// the boundary does not get a spurious leading-space token); the continuation is the tokens
// after the longest prefix shared with the prompt tokenized alone. BOS belongs to the prompt.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "options.h"
#include "tessera/engine.h"

namespace tessera::cli {
namespace {

struct ScoreFlags {
  std::string model_path;
  std::string prompt;
  std::string continuation;
  std::string prompt_ids;
  std::string continuation_ids;
  std::int32_t top_n = 0;
  std::int32_t threads = 0;
  bool json = false;
  bool no_bos = false;
};

struct SplitIds {
  std::vector<std::int32_t> prompt;
  std::vector<std::int32_t> continuation;
};

Result<SplitIds> TokenizePair(const Model& model, const ScoreFlags& flags) {
  if (!flags.prompt_ids.empty() || !flags.continuation_ids.empty()) {
    if (!flags.prompt.empty() || !flags.continuation.empty()) {
      return InvalidArgument("give either -p/-c or --prompt-ids/--continuation-ids, not both");
    }
    if (flags.prompt_ids.empty() || flags.continuation_ids.empty()) {
      return InvalidArgument("--prompt-ids and --continuation-ids are both required");
    }
    SplitIds ids;
    TS_ASSIGN_OR_RETURN(ids.prompt, ParseIdList("--prompt-ids", flags.prompt_ids));
    TS_ASSIGN_OR_RETURN(ids.continuation,
                        ParseIdList("--continuation-ids", flags.continuation_ids));
    return ids;
  }
  if (flags.continuation.empty()) return InvalidArgument("continuation is empty (-c)");
  TS_ASSIGN_OR_RETURN(std::vector<std::int32_t> prompt,
                      model.Tokenize(flags.prompt, !flags.no_bos, false));
  TS_ASSIGN_OR_RETURN(std::vector<std::int32_t> whole,
                      model.Tokenize(flags.prompt + flags.continuation, !flags.no_bos, false));
  std::size_t shared = 0;
  while (shared < prompt.size() && shared < whole.size() && prompt[shared] == whole[shared]) {
    ++shared;
  }
  SplitIds ids;
  ids.prompt.assign(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(shared));
  ids.continuation.assign(whole.begin() + static_cast<std::ptrdiff_t>(shared), whole.end());
  if (ids.prompt.empty()) return InvalidArgument("prompt is empty (and no BOS token is added)");
  if (ids.continuation.empty()) {
    return InvalidArgument("continuation adds no token after the prompt");
  }
  return ids;
}

int RunScore(const ScoreFlags& flags) {
  Result<std::int32_t> threads = ResolveThreads(flags.threads);
  if (!threads.ok()) return ReportError(threads.status());
  ModelOptions model_options;
  model_options.n_threads = *threads;
  Result<std::unique_ptr<Model>> model = Model::Open(flags.model_path, model_options);
  if (!model.ok()) return ReportError(model.status());
  ReportWarnings((*model)->warnings());
  const Model& m = **model;
  Result<SplitIds> ids = TokenizePair(m, flags);
  if (!ids.ok()) return ReportError(ids.status());
  Result<std::unique_ptr<Session>> session = m.NewSession();
  if (!session.ok()) return ReportError(session.status());
  Result<ScoreResult> score = (*session)->Score(ids->prompt, ids->continuation, flags.top_n);
  if (!score.ok()) return ReportError(score.status());
  const ScoreResult& s = *score;

  if (flags.json) {
    nlohmann::ordered_json out;
    out["model"] = {{"path", m.path()}, {"sha256", m.sha256()}};
    out["prompt_ids"] = ids->prompt;
    out["continuation_ids"] = ids->continuation;
    nlohmann::ordered_json tokens = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < s.tokens.size(); ++i) {
      nlohmann::ordered_json t;
      t["id"] = s.tokens[i].id;
      t["piece"] = m.TokenText(s.tokens[i].id);
      t["logprob"] = s.tokens[i].logprob;
      nlohmann::ordered_json top = nlohmann::ordered_json::array();
      for (const TokenLogprob& a : s.Alternatives(i)) {
        top.push_back({{"id", a.id}, {"piece", m.TokenText(a.id)}, {"logprob", a.logprob}});
      }
      if (flags.top_n > 0) t["top"] = std::move(top);
      tokens.push_back(std::move(t));
    }
    out["tokens"] = std::move(tokens);
    out["sum_logprob"] = s.sum_logprob;
    out["mean_logprob"] = s.sum_logprob / static_cast<double>(s.tokens.size());
    out["perplexity"] = s.perplexity;
    std::printf("%s\n", DumpJson(out).c_str());
    return 0;
  }
  std::printf("%6s %-24s %10s\n", "id", "piece", "logprob");
  for (std::size_t i = 0; i < s.tokens.size(); ++i) {
    std::string piece = DumpJson(nlohmann::ordered_json(m.TokenText(s.tokens[i].id)), -1);
    std::printf("%6d %-24s %10.4f", s.tokens[i].id, piece.c_str(), s.tokens[i].logprob);
    for (const TokenLogprob& a : s.Alternatives(i)) {
      std::string alt = DumpJson(nlohmann::ordered_json(m.TokenText(a.id)), -1);
      std::printf("  %d %s %.4f", a.id, alt.c_str(), a.logprob);
    }
    std::printf("\n");
  }
  std::printf("tokens %zu, sum logprob %.4f, perplexity %.4f\n", s.tokens.size(), s.sum_logprob,
              s.perplexity);
  return 0;
}

}  // namespace

RunFn AddScore(CLI::App& app) {
  auto f = std::make_shared<ScoreFlags>();
  CLI::App* sub =
      app.add_subcommand("score", "Log-probabilities of a continuation given a prompt");
  sub->add_option("-m,--model", f->model_path, "GGUF model file")->required();
  sub->add_option("-p,--prompt", f->prompt, "Prompt text");
  sub->add_option("-c,--continuation", f->continuation, "Continuation text to score");
  sub->add_option("--prompt-ids", f->prompt_ids, "Prompt as token ids: 1,2,3");
  sub->add_option("--continuation-ids", f->continuation_ids, "Continuation as token ids");
  sub->add_option("--top-n", f->top_n, "Report the N most likely alternatives per position");
  sub->add_option("-t,--threads", f->threads, "Compute threads; 0 = all cores (default)");
  sub->add_flag("--json", f->json, "Print one JSON document");
  sub->add_flag("--no-bos", f->no_bos, "Do not add the BOS token to a text prompt");
  return [f] { return RunScore(*f); };
}

}  // namespace tessera::cli
