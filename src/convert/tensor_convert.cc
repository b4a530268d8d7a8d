#include "convert/tensor_convert.h"

#include "tensor/quantize.h"

namespace tessera::convert {

std::uint64_t RopeSourceRow(std::uint64_t row, std::uint64_t n_rows, std::uint32_t n_heads) {
  const std::uint64_t head_dim = n_rows / n_heads;
  const std::uint64_t half = head_dim / 2;
  const std::uint64_t head = row / head_dim;
  const std::uint64_t j = row % head_dim;  // = 2 i + k
  return head * head_dim + (j % 2) * half + j / 2;
}

Status ConvertTensor(const StTensor& src, tensor::DType type, std::uint32_t permute_heads,
                     ConvertedTensor* out, float add) {
  const std::uint64_t n_cols = src.row_length();
  const std::uint64_t n_rows = src.n_rows();
  out->type = type;
  out->owned.clear();
  if (permute_heads > 0 && n_rows % (2ull * permute_heads) != 0) {
    return InvalidArgument("convert: tensor \"" + src.name + "\" has " + std::to_string(n_rows) +
                           " rows, not a multiple of 2 x " + std::to_string(permute_heads) +
                           " heads");
  }
  if (permute_heads == 0 && src.dtype == type && add == 0.0f) {
    out->bytes = src.data;
    return Status::Ok();
  }
  const tensor::DequantizeRowFn to_float = tensor::DequantizeRowFor(src.dtype);
  const tensor::QuantizeRowFn from_float = tensor::QuantizeRowFor(type);
  if (to_float == nullptr || from_float == nullptr) {
    return Unsupported("convert: no conversion from " + std::string(tensor::TypeName(src.dtype)) +
                       " to " + std::string(tensor::TypeName(type)));
  }
  if (n_cols % tensor::BlockSize(type) != 0) {
    return InvalidArgument("convert: tensor \"" + src.name + "\" row length " +
                           std::to_string(n_cols) + " is not a multiple of the " +
                           std::string(tensor::TypeName(type)) + " block size " +
                           std::to_string(tensor::BlockSize(type)));
  }
  TS_ASSIGN_OR_RETURN(const std::uint64_t src_row_bytes, tensor::RowBytes(src.dtype, n_cols));
  TS_ASSIGN_OR_RETURN(const std::uint64_t dst_row_bytes, tensor::RowBytes(type, n_cols));
  if (src.data.size() != src_row_bytes * n_rows) {
    return Internal("convert: tensor \"" + src.name + "\" holds " +
                    std::to_string(src.data.size()) + " bytes, expected " +
                    std::to_string(src_row_bytes * n_rows));
  }
  std::vector<float> row(n_cols);
  out->owned.resize(dst_row_bytes * n_rows);
  const auto n = static_cast<std::int64_t>(n_cols);
  for (std::uint64_t r = 0; r < n_rows; ++r) {
    const std::uint64_t from = permute_heads > 0 ? RopeSourceRow(r, n_rows, permute_heads) : r;
    to_float(src.data.data() + from * src_row_bytes, row.data(), n);
    if (add != 0.0f) {
      for (float& v : row) v += add;
    }
    from_float(row.data(), out->owned.data() + r * dst_row_bytes, n);
  }
  out->bytes = out->owned;
  return Status::Ok();
}

}  // namespace tessera::convert
