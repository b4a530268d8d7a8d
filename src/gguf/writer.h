// GGUF writer: builds a GGUF v3 file from metadata and tensors, in the layout llama.cpp reads.
//
// Layout written (see reader.h for the field encodings):
//   header, metadata in the order added, tensor infos in the order added, zero padding to the
//   alignment (omitted when there are no tensors, as in llama.cpp's vocabulary files), then each
//   tensor's bytes in the order added, each followed by zero padding to the alignment (the last one
//   too). Tensor i's offset is the sum of the padded sizes of tensors 0..i-1, which is exactly what
//   llama.cpp's gguf reader requires. "general.alignment" (u32) is written when the alignment is
//   not the default 32.
//
// llama.cpp compatibility notes: llama.cpp refuses nested arrays (an array whose element type is
// array) and tensor names of 64 bytes or more. The writer refuses such tensor names; it accepts
// nested arrays because the GGUF specification allows them (our reader reads them), so a caller
// who needs llama.cpp to read the file must not add them.
//
// Ownership: metadata values are moved into the writer; tensor bytes are BORROWED: the spans
// passed to AddTensor() must stay valid until WriteFile()/WriteToBuffer() returns.
// Thread safety: not thread-safe; use from one thread. The Write* calls are const and may be
// repeated.
#ifndef TESSERA_GGUF_WRITER_H_
#define TESSERA_GGUF_WRITER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/file_env.h"
#include "gguf/reader.h"
#include "gguf/value.h"
#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::gguf {

class Writer {
 public:
  Writer() = default;
  Writer(Writer&&) = default;
  Writer& operator=(Writer&&) = default;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Alignment of the data section and of every tensor offset (default 32). Checked when
  // writing: it must be a non-zero power of two (kInvalidArgument otherwise). Adding the key
  // "general.alignment" with AddKeyValue() has the same effect.
  void SetAlignment(std::uint32_t alignment) { alignment_ = alignment; }
  std::uint32_t alignment() const { return alignment_; }

  // Appends a metadata pair. kDuplicate if `key` was added before; kInvalidArgument for an empty
  // key or an array whose items do not all have its element type; kTypeMismatch for a
  // "general.alignment" that is not a u32. Types of the other well-known keys (schema.h) are
  // checked when writing, once general.architecture is known.
  Status AddKeyValue(std::string key, Value v);

  // Appends a tensor. dims are innermost first (dims[0] = row length), 1..4 of them, non-zero,
  // dims[0] a multiple of the type's block size; `bytes` must hold exactly the computed size.
  // Errors: kDuplicate (name added before), kInvalidArgument (empty or >= 64-byte name, bad dims,
  // wrong byte count).
  Status AddTensor(std::string name, std::vector<std::uint64_t> dims_innermost_first,
                   tensor::DType type, std::span<const std::uint8_t> bytes);

  // Copies every metadata pair and tensor of a parsed file (its alignment too). The tensor bytes
  // are borrowed from `file`, which must outlive the writes.
  Status AddAllFrom(const File& file);

  // Writes the file atomically through base::AtomicFile (a temporary file in the same folder,
  // fsync, rename over `path`, fsync of the folder; every operation through `env`): on any
  // failure the temporary is removed and `path` is untouched. kIoError names the failing
  // operation and path.
  Status WriteFile(const std::string& path, base::FileEnv& env = base::DefaultFileEnv()) const;

  // The whole file in memory (for tests and small files).
  Result<std::vector<std::uint8_t>> WriteToBuffer() const;

  std::size_t n_metadata() const { return metadata_.size(); }
  std::size_t n_tensors() const { return tensors_.size(); }

 private:
  struct PendingTensor {
    std::string name;
    std::vector<std::uint64_t> dims;
    tensor::DType type;
    std::span<const std::uint8_t> bytes;
  };

  // Everything before the data section (header, metadata, tensor infos, padding), after
  // validating the writer's state.
  Result<std::vector<std::uint8_t>> BuildPrefix() const;
  std::uint64_t Padded(std::uint64_t n) const;

  std::uint32_t alignment_ = 32;
  std::vector<KeyValue> metadata_;
  std::vector<PendingTensor> tensors_;
  std::unordered_set<std::string> keys_;
  std::unordered_set<std::string> names_;
};

}  // namespace tessera::gguf

#endif  // TESSERA_GGUF_WRITER_H_
