// Safetensors: the tensor file format of Hugging Face checkpoints, parsed over a mapping.
//
// Format (little-endian):
//   u64  N                 length of the header in bytes
//   N bytes                a JSON object (UTF-8, may be padded with trailing spaces):
//                            "__metadata__": {"key": "value", ...}        optional, strings only
//                            "<tensor name>": {"dtype": "F16", "shape": [rows, cols],
//                                              "data_offsets": [begin, end]}
//   data                   the byte buffer; a tensor's bytes are data[begin, end), row-major
//                          (the LAST shape entry is the fastest-varying one).
// Checks (hostile input never crashes or over-allocates): N fits in the file and is at most
// kMaxHeaderBytes; every entry has the three fields with the right JSON types; dims are
// non-negative and their product times the dtype size equals end - begin without overflow;
// begin <= end <= data size; no two tensors overlap. Dtypes F32, F16 and BF16 are accepted;
// any other (F64, I64, BOOL, F8_*, ...) is kUnsupported naming the tensor.
//
// Ownership: SafetensorsFile owns its mapping; tensor data spans borrow from it.
// Thread safety: immutable after Open()/Parse(); concurrent reads are safe.
#ifndef TESSERA_CONVERT_SAFETENSORS_H_
#define TESSERA_CONVERT_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"
#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::convert {

inline constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;  // as the reference reader

struct StTensor {
  std::string name;
  tensor::DType dtype = tensor::DType::kF32;  // F32, F16 or BF16
  std::vector<std::uint64_t> shape;           // outermost first, as in the file
  std::span<const std::uint8_t> data;         // borrowed from the file

  std::uint64_t n_elements() const;
  // Rows and row length of the tensor read as a matrix: the last dim is the row length
  // (1-D: one row; 0-D: one element).
  std::uint64_t row_length() const { return shape.empty() ? 1 : shape.back(); }
  std::uint64_t n_rows() const;
};

class SafetensorsFile {
 public:
  // Maps and parses `path`. Errors are prefixed with the path: kNotFound, kIoError (from the
  // mapping), kTruncated (the file ends inside the header length, the header or a tensor),
  // kMalformed (bad JSON or entry, overlapping or inconsistent offsets), kOutOfRange (header
  // larger than kMaxHeaderBytes), kUnsupported (a dtype other than F32/F16/BF16).
  static Result<SafetensorsFile> Open(const std::string& path);

  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return file_.path(); }
  const std::vector<StTensor>& tensors() const { return tensors_; }  // in offset order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  base::MappedFile file_;
  std::vector<StTensor> tensors_;
  std::map<std::string, std::string> metadata_;

  friend Status ParseSafetensors(std::span<const std::uint8_t> bytes, std::string_view what,
                                 std::vector<StTensor>* tensors,
                                 std::map<std::string, std::string>* metadata);
};

// Parses safetensors bytes (the body of Open(), exposed for tests). Spans in `tensors` borrow
// from `bytes`. Messages are prefixed with "convert: <what>: ".
Status ParseSafetensors(std::span<const std::uint8_t> bytes, std::string_view what,
                        std::vector<StTensor>* tensors,
                        std::map<std::string, std::string>* metadata);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_SAFETENSORS_H_
