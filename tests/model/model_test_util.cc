#include "model_test_util.h"

#include <utility>

#include "gguf/writer.h"

namespace tessera::model::testing {
namespace {

struct OwnedFile {
  std::vector<std::uint8_t> bytes;
  std::optional<gguf::File> file;
};

}  // namespace

Result<std::shared_ptr<const gguf::File>> ParseOwned(std::vector<std::uint8_t> bytes) {
  auto owner = std::make_shared<OwnedFile>();
  owner->bytes = std::move(bytes);
  TS_ASSIGN_OR_RETURN(gguf::File file, gguf::File::Parse(owner->bytes));
  owner->file.emplace(std::move(file));
  const gguf::File* raw = &*owner->file;
  return std::shared_ptr<const gguf::File>(std::move(owner), raw);
}

Result<std::shared_ptr<const gguf::File>> SynthFile(const SynthSpec& spec) {
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, BuildRandomLlama(spec));
  return ParseOwned(std::move(bytes));
}

Result<std::shared_ptr<const gguf::File>> Rewrite(
    const gguf::File& file, const std::function<void(KeyEdit&)>& edit_key,
    const std::function<void(TensorEdit&)>& edit_tensor, const std::vector<KeyEdit>& extra_keys) {
  gguf::Writer writer;
  for (const gguf::KeyValue& kv : file.metadata()) {
    if (kv.key == "general.alignment") continue;
    KeyEdit e{kv.key, kv.value};
    if (edit_key) edit_key(e);
    if (!e.drop) TS_RETURN_IF_ERROR(writer.AddKeyValue(e.key, e.value));
  }
  for (const KeyEdit& e : extra_keys) TS_RETURN_IF_ERROR(writer.AddKeyValue(e.key, e.value));
  std::vector<TensorEdit> edits;  // owns the bytes the writer borrows
  edits.reserve(file.tensors().size());
  for (const gguf::TensorInfo& t : file.tensors()) {
    TensorEdit e{t.name, t.dims, t.type, std::vector<std::uint8_t>(t.data.begin(), t.data.end())};
    if (edit_tensor) edit_tensor(e);
    if (e.drop) continue;
    edits.push_back(std::move(e));
    TS_RETURN_IF_ERROR(writer.AddTensor(edits.back().name, edits.back().dims, edits.back().type,
                                        edits.back().bytes));
  }
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, writer.WriteToBuffer());
  return ParseOwned(std::move(bytes));
}

}  // namespace tessera::model::testing
