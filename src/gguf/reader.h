// GGUF reader: a memory-mapped, bounds-checked view of a GGUF v2 or v3 file.
//
// The format (little-endian throughout):
//
//   header      u32 magic "GGUF" (bytes 47 47 55 46), u32 version (2 or 3),
//               u64 tensor_count, u64 metadata_kv_count
//   metadata    metadata_kv_count times: string key, u32 value_type, value
//   tensor info tensor_count times: string name, u32 n_dims (1..4), u64 dims[n_dims]
//               (innermost first: dims[0] is the row length), u32 ggml type, u64 offset
//   padding     zero bytes up to a multiple of the alignment
//   data        tensor bytes; each tensor at data_start + offset, offset a multiple of the
//               alignment; tensors do not overlap and end within the file; the last tensor
//               is followed by zero padding to the alignment (required when there are tensors;
//               a file without tensors may end right after its tensor infos)
//
//   string      u64 length, then that many bytes of UTF-8, not NUL-terminated
//   value types 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool (one byte, 0 or 1),
//               8 string, 9 array (u32 element type, u64 count, elements; arrays may nest),
//               10 u64, 11 i64, 12 f64
//   alignment   metadata key "general.alignment" (u32, a power of two), default 32
//
// Version 1 (u32 counts and lengths) is refused as unsupported.
//
// Checks beyond the layout: n_dims 1..4, every dim non-zero, the element count below 2^63, the
// tensor type known to tensor::TraitsOf() (else kUnsupported naming the number and tensor),
// dims[0] a multiple of the type's block size, no duplicate keys or tensor names (kDuplicate),
// array nesting at most ReadLimits::max_array_depth (never more than 64), and the types of the
// well-known keys (kTypeMismatch; general.alignment u32, general.architecture string,
// tokenizer.ggml.tokens array of string, "<arch>.block_count" an integer, ... see schema.cc).
// Unlike llama.cpp, tensor offsets need not be contiguous in file order (only aligned and
// non-overlapping). String contents are not validated as UTF-8.
//
// Every count, length and offset is checked against the bytes that remain before it is used, so
// a corrupt file yields a Status (kMalformed, kTruncated, kUnsupported, kDuplicate,
// kTypeMismatch, kOutOfRange) and never a crash, a hang or an allocation larger than the file
// warrants.
//
// Ownership: File owns its mapping (or borrows caller bytes with Parse()); TensorInfo::data
// spans point into it and live as long as the File. Thread safety: immutable after Open();
// concurrent reads are safe. File is move-only.
#ifndef TESSERA_GGUF_READER_H_
#define TESSERA_GGUF_READER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "gguf/value.h"
#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::gguf {

struct TensorInfo {
  std::string name;
  std::vector<std::uint64_t> dims;  // innermost first, as in the file: dims[0] = row length
  tensor::DType type;
  std::uint64_t offset = 0;            // relative to the start of the data section
  std::uint64_t size_bytes = 0;        // computed from dims and type
  std::span<const std::uint8_t> data;  // the tensor's bytes inside the file

  std::uint64_t n_elements() const;
  std::uint64_t row_length() const { return dims.empty() ? 1 : dims[0]; }
  std::uint64_t n_rows() const;  // product of dims[1..]
};

struct KeyValue {
  std::string key;
  Value value;
};

// Limits applied while parsing, on top of the file-size bounds.
struct ReadLimits {
  std::uint64_t max_string_bytes = 64ull << 20;  // one string
  std::uint64_t max_array_depth = 8;             // nesting of arrays (capped at 64)
  // Elements of one array. Each parsed element costs a Value (~48 bytes) however small its
  // encoding, so this bounds memory at a fixed multiple of the file size (kOutOfRange).
  std::uint64_t max_array_elements = 16ull << 20;
  std::uint32_t max_dims = 4;
};

class File {
 public:
  // Maps and parses the file at `path`. Errors are prefixed with the path; kNotFound or
  // kIoError come from base::MappedFile.
  static Result<File> Open(const std::string& path, const ReadLimits& limits = {});
  // Parses bytes owned by the caller, who must keep them alive as long as the File.
  static Result<File> Parse(std::span<const std::uint8_t> bytes, const ReadLimits& limits = {});

  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  std::uint32_t version() const { return version_; }
  std::uint32_t alignment() const { return alignment_; }
  // Start of the data section: the end of the tensor infos rounded up to the alignment. (For a
  // file without tensors it may lie past the end of the file.)
  std::uint64_t data_offset() const { return data_offset_; }
  std::span<const std::uint8_t> bytes() const { return bytes_; }
  const std::string& path() const { return path_; }  // empty for Parse()
  // For a mapped file (Open), drops the resident pages wholly inside `range` (a part of bytes())
  // until they are read again (base::MappedFile::ReleasePages); returns the part released.
  // A no-op returning an empty span for Parse(), whose bytes belong to the caller.
  std::span<const std::uint8_t> ReleasePages(std::span<const std::uint8_t> range) const {
    return mapping_ != nullptr ? mapping_->ReleasePages(range) : std::span<const std::uint8_t>();
  }

  // Metadata in file order.
  const std::vector<KeyValue>& metadata() const { return metadata_; }
  // nullptr if absent.
  const Value* Find(std::string_view key) const;

  // Typed getters. kNotFound if absent; kTypeMismatch if the stored type cannot represent the
  // requested one (any integer type is accepted for an integer getter when the value fits; f32
  // and f64 for GetF32).
  Result<std::string_view> GetString(std::string_view key) const;
  Result<std::uint64_t> GetU64(std::string_view key) const;
  Result<std::uint32_t> GetU32(std::string_view key) const;
  Result<std::int64_t> GetI64(std::string_view key) const;
  Result<float> GetF32(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;
  // The array under `key` (kTypeMismatch if not an array).
  Result<const Array*> GetArray(std::string_view key) const;

  // Tensors in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // nullptr if absent.
  const TensorInfo* FindTensor(std::string_view name) const;

 private:
  File() = default;
  friend class Parser;
  void BuildIndex();  // fills the lookup tables below after a successful parse

  std::unique_ptr<base::MappedFile> mapping_;  // null for Parse()
  std::span<const std::uint8_t> bytes_;
  std::string path_;
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = 32;
  std::uint64_t data_offset_ = 0;
  std::vector<KeyValue> metadata_;
  std::vector<TensorInfo> tensors_;
  // Lookup tables; the string_views point into metadata_[i].key and tensors_[i].name, whose
  // addresses survive a move of the vectors.
  std::unordered_map<std::string_view, std::size_t> key_index_;
  std::unordered_map<std::string_view, std::size_t> tensor_index_;
};

}  // namespace tessera::gguf

#endif  // TESSERA_GGUF_READER_H_
