// tessera convert DIR -o OUT.gguf [--type T] [--name NAME]
// tessera convert --lora DIR --base BASE.gguf -o OUT.gguf [--type f32|f16] [--name NAME]
//
// The first form converts a Hugging Face llama / qwen2 checkpoint directory (config.json,
// safetensors, tokenizer.model or tokenizer.json) into a GGUF model (convert/convert_model.h);
// TYPE is any `tessera quantize` target (default f16). The second converts a PEFT LoRA adapter
// into a GGUF adapter bound to BASE.gguf (convert/convert_lora.h; default type f32).
// The output is written atomically: on any error it is not created. A summary goes to stdout,
// one line per type fallback to stderr.
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "convert/convert_lora.h"
#include "convert/convert_model.h"
#include "convert/type_plan.h"

namespace tessera::cli {
namespace {

struct ConvertFlags {
  std::string dir;
  std::string lora_dir;
  std::string base;
  std::string out;
  std::string type;
  std::string name;
};

Status RunConvertImpl(const ConvertFlags& f) {
  if (!f.lora_dir.empty()) {
    if (!f.dir.empty()) {
      return InvalidArgument("convert: give either DIR or --lora DIR, not both");
    }
    if (f.base.empty()) return InvalidArgument("convert: --lora needs --base BASE.gguf");
    convert::LoraConvertOptions o;
    o.dir = f.lora_dir;
    o.base_path = f.base;
    o.out_path = f.out;
    o.type = f.type.empty() ? "f32" : f.type;
    o.name = f.name;
    TS_ASSIGN_OR_RETURN(convert::LoraConvertReport r, convert::ConvertLora(o));
    std::printf(
        "convert: %s -> %s: LoRA adapter (%s), %d modules, r %d, alpha %g, base sha256 %s\n",
        f.lora_dir.c_str(), f.out.c_str(), r.architecture.c_str(), r.n_modules, r.rank,
        static_cast<double>(r.alpha), r.base_sha256.c_str());
    return Status::Ok();
  }
  if (f.dir.empty()) return InvalidArgument("convert: give a checkpoint DIR or --lora DIR");
  if (!f.base.empty()) return InvalidArgument("convert: --base is only used with --lora");
  convert::ConvertOptions o;
  o.dir = f.dir;
  o.out_path = f.out;
  o.type = f.type.empty() ? "f16" : f.type;
  o.name = f.name;
  TS_ASSIGN_OR_RETURN(convert::ConvertReport r, convert::ConvertCheckpoint(o));
  for (const std::string& note : r.notes) {
    std::fprintf(stderr, "tessera: convert: %s\n", note.c_str());
  }
  std::printf(
      "convert: %s -> %s (%s, %s): %d tensors, n_vocab %d, tensor data %.2f MiB -> %.2f MiB\n",
      f.dir.c_str(), f.out.c_str(), r.architecture.c_str(), o.type.c_str(), r.n_tensors, r.n_vocab,
      static_cast<double>(r.bytes_in) / (1024.0 * 1024.0),
      static_cast<double>(r.bytes_out) / (1024.0 * 1024.0));
  return Status::Ok();
}

}  // namespace

RunFn AddConvert(CLI::App& app) {
  auto f = std::make_shared<ConvertFlags>();
  CLI::App* sub =
      app.add_subcommand("convert", "Convert a Hugging Face checkpoint or PEFT LoRA to GGUF");
  sub->add_option("dir", f->dir, "Checkpoint directory (config.json, *.safetensors, tokenizer)");
  sub->add_option("--lora", f->lora_dir, "PEFT LoRA adapter directory (instead of DIR)");
  sub->add_option("--base", f->base, "Base model GGUF the adapter applies to (with --lora)");
  sub->add_option("-o,--output", f->out, "Destination GGUF (written atomically)")->required();
  sub->add_option("--type", f->type,
                  "Tensor type: " + convert::ValidTypeTargets() +
                      " (default f16; with --lora: f32 or f16, default f32)");
  sub->add_option("--name", f->name, "general.name (default: the directory's name)");
  return [f] {
    Status s = RunConvertImpl(*f);
    return s.ok() ? 0 : ReportError(s);
  };
}

}  // namespace tessera::cli
