// tessera tokenize -m FILE -p TEXT [--ids] [--no-bos] [--special]
// Prints one token per line: its id and its piece (JSON-quoted so spaces and bytes show), or
// with --ids the ids on one line, separated by spaces.
#include <cstdio>
#include <memory>
#include <string>

#include "base/printable.h"
#include "command.h"
#include "options.h"
#include "gguf/reader.h"
#include "tokenizer/tokenizer.h"

namespace tessera::cli {
namespace {

struct TokenizeFlags {
  std::string model_path;
  std::string prompt;
  bool ids_only = false;
  bool no_bos = false;
  bool parse_special = false;
};

int RunTokenize(const TokenizeFlags& flags) {
  // Only the vocabulary is needed, so vocabulary-only GGUF files work too.
  Result<gguf::File> file = gguf::File::Open(flags.model_path);
  if (!file.ok()) return ReportError(file.status());
  Result<std::unique_ptr<tokenizer::Tokenizer>> tok = tokenizer::CreateTokenizer(*file);
  if (!tok.ok()) return ReportError(tok.status());
  ReportWarnings((*tok)->vocab().warnings());
  tokenizer::EncodeOptions options;
  options.add_bos = !flags.no_bos;
  options.parse_special = flags.parse_special;
  Result<std::vector<std::int32_t>> ids = (*tok)->Encode(flags.prompt, options);
  if (!ids.ok()) return ReportError(ids.status());
  if (flags.ids_only) {
    std::string line;
    for (std::size_t i = 0; i < ids->size(); ++i) {
      if (i > 0) line += ' ';
      line += std::to_string((*ids)[i]);
    }
    std::printf("%s\n", line.c_str());
    return 0;
  }
  for (std::int32_t id : *ids) {
    const std::string& piece = (*tok)->vocab().text(id);
    std::printf("%6d %s\n", id, base::Printable(DumpJson(nlohmann::ordered_json(piece), -1)).c_str());
  }
  return 0;
}

}  // namespace

RunFn AddTokenize(CLI::App& app) {
  auto f = std::make_shared<TokenizeFlags>();
  CLI::App* sub = app.add_subcommand("tokenize", "Show how a text splits into tokens");
  sub->add_option("-m,--model", f->model_path, "GGUF model or vocabulary file")->required();
  sub->add_option("-p,--prompt", f->prompt, "Text (UTF-8)")->required();
  sub->add_flag("--ids", f->ids_only, "Print only the ids, on one line");
  sub->add_flag("--no-bos", f->no_bos, "Do not add the BOS token");
  sub->add_flag("--special", f->parse_special, "Parse special-token text such as <s>");
  return [f] { return RunTokenize(*f); };
}

}  // namespace tessera::cli
