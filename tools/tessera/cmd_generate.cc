// tessera generate -m FILE -p TEXT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
//                  [--seed S] [-t THREADS] [-c CTX] [--json] [--top-n N] [--no-bos] [--special]
//
// Streams the generated text to stdout as it is produced and prints prefill and decode rates to
// stderr. With --json, prints instead one JSON document: the prompt's token ids, each generated
// token (id, text, logprob, top-N alternatives), the stop reason and the timings.
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "options.h"
#include "tessera/engine.h"

namespace tessera::cli {
namespace {

struct GenerateFlags {
  std::string model_path;
  std::string prompt;
  std::int32_t n_predict = 128;
  float temperature = 0.0f;
  std::int32_t top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  std::uint64_t seed = 0;
  std::int32_t threads = 0;
  std::int32_t n_ctx = 0;
  std::int32_t top_n = 0;
  bool json = false;
  bool no_bos = false;
  bool parse_special = false;
};

nlohmann::ordered_json AlternativesJson(const Model& model,
                                        std::span<const TokenLogprob> alternatives) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const TokenLogprob& a : alternatives) {
    out.push_back({{"id", a.id}, {"text", model.TokenText(a.id)}, {"logprob", a.logprob}});
  }
  return out;
}

nlohmann::ordered_json ResultJson(const Model& model, const GenerateFlags& flags,
                                  const GenerateResult& r) {
  nlohmann::ordered_json out;
  out["model"] = {{"path", model.path()},
                  {"sha256", model.sha256()},
                  {"architecture", model.architecture()},
                  {"description", model.description()}};
  out["prompt"] = flags.prompt;
  out["prompt_ids"] = r.prompt_ids;
  nlohmann::ordered_json tokens = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < r.tokens.size(); ++i) {
    nlohmann::ordered_json t;
    t["id"] = r.tokens[i].id;
    t["text"] = std::string(r.TokenText(i));
    t["piece"] = model.TokenText(r.tokens[i].id);
    t["logprob"] = r.tokens[i].logprob;
    if (flags.top_n > 0) t["top"] = AlternativesJson(model, r.Alternatives(i));
    tokens.push_back(std::move(t));
  }
  out["tokens"] = std::move(tokens);
  out["text"] = r.text;
  out["stop_reason"] = StopReasonName(r.stop_reason);
  out["timings"] = {{"prompt_tokens", r.timings.prompt_tokens},
                    {"prefill_seconds", r.timings.prefill_seconds},
                    {"prefill_tokens_per_second", r.timings.prefill_tokens_per_second},
                    {"decode_tokens", r.timings.decode_tokens},
                    {"decode_seconds", r.timings.decode_seconds},
                    {"decode_tokens_per_second", r.timings.decode_tokens_per_second}};
  return out;
}

int RunGenerate(const GenerateFlags& flags) {
  Result<std::int32_t> threads = ResolveThreads(flags.threads);
  if (!threads.ok()) return ReportError(threads.status());
  ModelOptions model_options;
  model_options.n_ctx = flags.n_ctx;
  model_options.n_threads = *threads;
  Result<std::unique_ptr<Model>> model = Model::Open(flags.model_path, model_options);
  if (!model.ok()) return ReportError(model.status());
  ReportWarnings((*model)->warnings());
  Result<std::unique_ptr<Session>> session = (*model)->NewSession();
  if (!session.ok()) return ReportError(session.status());

  GenerateOptions options;
  options.max_tokens = flags.n_predict;
  options.temperature = flags.temperature;
  options.top_k = flags.top_k;
  options.top_p = flags.top_p;
  options.min_p = flags.min_p;
  options.seed = flags.seed;
  options.top_n = flags.top_n;
  options.add_bos = !flags.no_bos;
  options.parse_special = flags.parse_special;

  TokenCallback stream;
  if (!flags.json) {
    stream = [](const TokenEvent& t) {
      const std::string text = ForStream(t.text, stdout);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    };
  }
  Result<GenerateResult> result = (*session)->Generate(flags.prompt, options, stream);
  if (!result.ok()) return ReportError(result.status());
  const GenerateResult& r = *result;
  if (flags.json) {
    std::printf("%s\n", DumpJson(ResultJson(**model, flags, r)).c_str());
  } else {
    std::printf("\n");
    std::fprintf(stderr,
                 "tessera: prefill %d tokens in %.2f ms (%.1f tokens/s), decode %d tokens in "
                 "%.2f ms (%.1f tokens/s), stop: %s\n",
                 r.timings.prompt_tokens, r.timings.prefill_seconds * 1e3,
                 r.timings.prefill_tokens_per_second, r.timings.decode_tokens,
                 r.timings.decode_seconds * 1e3, r.timings.decode_tokens_per_second,
                 std::string(StopReasonName(r.stop_reason)).c_str());
  }
  return 0;
}

}  // namespace

RunFn AddGenerate(CLI::App& app) {
  auto f = std::make_shared<GenerateFlags>();
  CLI::App* sub = app.add_subcommand("generate", "Generate text from a prompt");
  sub->add_option("-m,--model", f->model_path, "GGUF model file")->required();
  sub->add_option("-p,--prompt", f->prompt, "Prompt text (UTF-8)")->required();
  sub->add_option("-n,--n-predict", f->n_predict, "Tokens to generate (default 128)");
  sub->add_option("--temp", f->temperature, "Temperature; 0 = greedy (default 0)");
  sub->add_option("--top-k", f->top_k, "Keep the K most likely tokens; 0 = off");
  sub->add_option("--top-p", f->top_p, "Nucleus sampling mass in (0, 1]; 1 = off");
  sub->add_option("--min-p", f->min_p, "Drop tokens below P x the best probability; 0 = off");
  sub->add_option("--seed", f->seed, "Sampling seed (default 0)");
  sub->add_option("-t,--threads", f->threads, "Compute threads; 0 = all cores (default)");
  sub->add_option("-c,--ctx-size", f->n_ctx, "Context positions; 0 = the model's (default)");
  sub->add_option("--top-n", f->top_n, "Report the N most likely alternatives per token");
  sub->add_flag("--json", f->json, "Print one JSON document instead of streaming text");
  sub->add_flag("--no-bos", f->no_bos, "Do not add the BOS token");
  sub->add_flag("--special", f->parse_special, "Parse special-token text such as <s>");
  return [f] { return RunGenerate(*f); };
}

}  // namespace tessera::cli
