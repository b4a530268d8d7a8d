// Checkpoint: every tensor of a Hugging Face checkpoint directory, by name, over its safetensors
// files.
//
// Files looked for in the directory (first match wins):
//   <stem>.safetensors.index.json   {"weight_map": {"<tensor>": "<shard file>", ...}} and the
//                                   shards it names (plain file names inside the directory)
//   <stem>.safetensors              one file
// with stem "model" for models and "adapter_model" for PEFT adapters. A directory holding only
// PyTorch pickles (pytorch_model.bin) is kUnsupported: pickles execute code when loaded and are
// not read.
// Checks: a shard name is a plain file name (no '/', not "." or ".."); every tensor of the
// weight map is in the shard it names; a tensor found in two shards is kDuplicate; a tensor in a
// shard but absent from the weight map is kMalformed.
//
// Ownership: the Checkpoint owns the mappings; StTensor spans borrow from them.
// Thread safety: immutable after Open().
#ifndef TESSERA_CONVERT_CHECKPOINT_H_
#define TESSERA_CONVERT_CHECKPOINT_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "convert/safetensors.h"
#include "tessera/status.h"

namespace tessera::convert {

class Checkpoint {
 public:
  // Errors: kNotFound (neither file), kUnsupported (pickles only), those of SafetensorsFile and
  // of the index checks above.
  static Result<Checkpoint> Open(const std::string& dir, std::string_view stem);

  // Tensors by name (sorted).
  const std::map<std::string, const StTensor*>& tensors() const { return by_name_; }
  const StTensor* Find(std::string_view name) const;
  // The files read, for messages.
  std::vector<std::string> file_names() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const StTensor*> by_name_;
};

// "<dir>/<name>", without a doubled slash.
std::string JoinPath(std::string_view dir, std::string_view name);
bool FileExists(const std::string& path);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_CHECKPOINT_H_
