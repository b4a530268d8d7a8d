// The structural checks at install: a model GGUF binds as the engine binds it, and an adapter
// GGUF binds against its base.
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "gguf/keys.h"
#include "model/llama.h"
#include "model/lora_adapter.h"
#include "registry/gguf_facts.h"
#include "registry/gguf_facts_internal.h"
#include "tokenizer/tokenizer.h"

namespace tessera::registry {
namespace {

using internal::Quoted;

std::string Context(const std::string& path) { return "registry: structure: " + path; }

// Opens `path` and binds its weights (model::LlamaModel::Load: architecture, config, every
// tensor's presence, shape and type). Errors without a prefix.
Result<std::unique_ptr<model::LlamaModel>> LoadModel(const std::string& path) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<const gguf::File> file, internal::OpenGguf(path));
  if (file->Find(gguf::keys::kGeneralType) != nullptr) {
    TS_ASSIGN_OR_RETURN(std::string_view type, file->GetString(gguf::keys::kGeneralType));
    if (type == "adapter") {
      return InvalidArgument("general.type is \"adapter\": a LoRA adapter, not a model");
    }
  }
  return model::LlamaModel::Load(std::move(file));
}

// What Model::Open checks after binding the weights: the tokenizer builds and its vocabulary
// has one token per row of token_embd.weight.
Status CheckTokenizer(const model::LlamaModel& llama) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tok,
                      tokenizer::CreateTokenizer(llama.file()));
  if (tok->n_vocab() != llama.config().n_vocab) {
    return Status(StatusCode::kIncompatible, "the tokenizer has " + std::to_string(tok->n_vocab()) +
                                                 " tokens but token_embd.weight has " +
                                                 std::to_string(llama.config().n_vocab) + " rows");
  }
  return Status::Ok();
}

Status CheckModel(const std::string& path) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<model::LlamaModel> llama, LoadModel(path));
  return CheckTokenizer(*llama);
}

}  // namespace

Status CheckModelStructure(const std::string& gguf_path) {
  return CheckModel(gguf_path).WithContext(Context(gguf_path));
}

Status CheckAdapterStructure(const std::string& adapter_path, const std::string& base_path,
                             std::string_view base_sha256_hex) {
  const std::string context = Context(adapter_path);
  if (!internal::IsLowerHex64(base_sha256_hex)) {
    return InvalidArgument("base sha256 " + Quoted(base_sha256_hex) +
                           " is not 64 lowercase hex digits")
        .WithContext(context);
  }
  Result<std::shared_ptr<const gguf::File>> adapter = internal::OpenGguf(adapter_path);
  if (!adapter.ok()) return adapter.status().WithContext(context);
  if (Status kind = internal::CheckAdapterKind(**adapter); !kind.ok()) {
    return kind.WithContext(context);
  }
  Result<std::string> claimed = internal::ReadBaseSha256(**adapter);
  if (!claimed.ok()) return claimed.status().WithContext(context);
  if (!claimed->empty() && *claimed != base_sha256_hex) {
    return Status(StatusCode::kIncompatible, context + ": made for the base file with sha256 " +
                                                 *claimed + ", but the base \"" + base_path +
                                                 "\" has sha256 " + std::string(base_sha256_hex));
  }
  Result<std::unique_ptr<model::LlamaModel>> base = LoadModel(base_path);
  if (!base.ok()) {
    return base.status().WithContext(context + ": base \"" + base_path + "\"");
  }
  Result<std::unique_ptr<model::LoraAdapter>> lora =
      model::LoraAdapter::Bind(std::move(adapter).value(), **base);
  if (!lora.ok()) return lora.status().WithContext(context);
  return Status::Ok();
}

}  // namespace tessera::registry
