// tessera::Adapter: opening a LoRA adapter GGUF against its base Model.
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "base/sha256.h"
#include "engine/adapter_impl.h"
#include "engine/model_impl.h"

namespace tessera {
namespace {

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char ch : s) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

// adapter.base.sha256 when present (64 lowercase hex digits), else "".
Result<std::string> ReadBaseSha256(const gguf::File& file) {
  if (file.Find(model::kAdapterBaseSha256Key) == nullptr) return std::string();
  TS_ASSIGN_OR_RETURN(std::string_view sha, file.GetString(model::kAdapterBaseSha256Key));
  if (!IsLowerHex64(sha)) {
    return Malformed("engine: adapter: " + std::string(model::kAdapterBaseSha256Key) + " is \"" +
                     std::string(sha.substr(0, 80)) + "\", expected 64 lowercase hex digits");
  }
  return std::string(sha);
}

std::string Describe(const model::LoraAdapter& lora) {
  std::map<std::string_view, int> types;
  for (const model::LoraPair& p : lora.pairs()) {
    ++types[tensor::TypeName(p.a.type)];
    ++types[tensor::TypeName(p.b.type)];
  }
  std::string type_list;
  for (const auto& [name, count] : types) {
    if (!type_list.empty()) type_list += "+";
    type_list += name;
  }
  char buf[160];
  std::snprintf(buf, sizeof(buf), "lora: rank %lld, alpha %g, %zu matrices, %lld params, ",
                static_cast<long long>(lora.max_rank()), static_cast<double>(lora.alpha()),
                lora.pairs().size(), static_cast<long long>(lora.n_params()));
  return buf + type_list;
}

}  // namespace

Adapter::Adapter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Adapter::~Adapter() = default;

Result<std::shared_ptr<const Adapter>> Adapter::Open(const std::string& gguf_path,
                                                     const Model& base) {
  const std::string context = "engine: adapter \"" + gguf_path + "\"";
  const Model::Impl& m = *base.impl_;
  auto impl = std::make_unique<Impl>();
  impl->path = gguf_path;
  impl->base_file = m.file;
  std::shared_ptr<const gguf::File> file;
  {
    Result<gguf::File> opened = gguf::File::Open(gguf_path);
    if (!opened.ok()) return opened.status().WithContext(context);
    file = std::make_shared<const gguf::File>(std::move(opened).value());
  }
  // Cost: one sequential pass over every byte of the file.
  impl->sha256 = base::Sha256Hex(file->bytes());
  Result<std::unique_ptr<model::LoraAdapter>> lora = model::LoraAdapter::Bind(file, *m.llama);
  if (!lora.ok()) return lora.status().WithContext(context);
  impl->lora = std::move(lora).value();
  Result<std::string> base_sha = ReadBaseSha256(*file);
  if (!base_sha.ok()) return base_sha.status().WithContext(context);
  impl->base_sha256 = std::move(base_sha).value();
  if (!impl->base_sha256.empty() && impl->base_sha256 != m.sha256) {
    return Status(StatusCode::kIncompatible, context + ": made for the base file with sha256 " +
                                                 impl->base_sha256 + ", but the base model \"" +
                                                 m.path + "\" has sha256 " + m.sha256);
  }
  impl->description = Describe(*impl->lora);
  return std::shared_ptr<const Adapter>(new Adapter(std::move(impl)));
}

const std::string& Adapter::path() const { return impl_->path; }
const std::string& Adapter::sha256() const { return impl_->sha256; }
const std::string& Adapter::base_sha256() const { return impl_->base_sha256; }
float Adapter::alpha() const { return impl_->lora->alpha(); }
std::int32_t Adapter::rank() const { return static_cast<std::int32_t>(impl_->lora->max_rank()); }
std::int32_t Adapter::n_matrices() const {
  return static_cast<std::int32_t>(impl_->lora->pairs().size());
}
std::int64_t Adapter::n_params() const { return impl_->lora->n_params(); }
const std::string& Adapter::description() const { return impl_->description; }

}  // namespace tessera
