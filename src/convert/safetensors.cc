#include "convert/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "convert/json_file.h"

namespace tessera::convert {
namespace {

constexpr std::uint64_t kMaxDims = 8;

std::string Num(std::uint64_t v) { return std::to_string(v); }

struct DtypeInfo {
  std::string_view name;
  tensor::DType type;
  std::uint64_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {"F32", tensor::DType::kF32, 4},
    {"F16", tensor::DType::kF16, 2},
    {"BF16", tensor::DType::kBF16, 2},
};

Status ParseEntry(const std::string& prefix, const std::string& name, const Json& entry,
                  std::span<const std::uint8_t> data, StTensor* out) {
  const std::string where = prefix + "tensor \"" + name + "\"";
  if (!entry.is_object())
    return Malformed(where + " is " + JsonTypeName(entry) + ", expected an object");
  auto dtype_it = entry.find("dtype");
  auto shape_it = entry.find("shape");
  auto offsets_it = entry.find("data_offsets");
  if (dtype_it == entry.end() || !dtype_it->is_string()) {
    return Malformed(where + " has no string \"dtype\"");
  }
  if (shape_it == entry.end() || !shape_it->is_array()) {
    return Malformed(where + " has no array \"shape\"");
  }
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    return Malformed(where + " has no \"data_offsets\" [begin, end]");
  }
  const std::string dtype = dtype_it->get<std::string>();
  const DtypeInfo* info = nullptr;
  for (const DtypeInfo& d : kDtypes) {
    if (d.name == dtype) info = &d;
  }
  if (info == nullptr) {
    return Unsupported(where + " has dtype \"" + dtype +
                       "\"; only F32, F16 and BF16 checkpoints can be converted");
  }
  if (shape_it->size() > kMaxDims) {
    return Malformed(where + " has " + Num(shape_it->size()) + " dims, limit " + Num(kMaxDims));
  }
  out->name = name;
  out->dtype = info->type;
  out->shape.clear();
  std::uint64_t n = 1;
  for (const Json& d : *shape_it) {
    if (!d.is_number_unsigned()) {
      return Malformed(where + " has a shape entry that is not a non-negative integer");
    }
    const auto dim = d.get<std::uint64_t>();
    if (dim != 0 && n > std::numeric_limits<std::uint64_t>::max() / info->size / dim) {
      return Malformed(where + " has a shape whose byte size overflows");
    }
    n *= dim;
    out->shape.push_back(dim);
  }
  const Json& b = (*offsets_it)[0];
  const Json& e = (*offsets_it)[1];
  if (!b.is_number_unsigned() || !e.is_number_unsigned()) {
    return Malformed(where + " has data_offsets that are not non-negative integers");
  }
  const auto begin = b.get<std::uint64_t>();
  const auto end = e.get<std::uint64_t>();
  if (begin > end) {
    return Malformed(where + " has data_offsets [" + Num(begin) + ", " + Num(end) +
                     "] with begin after end");
  }
  if (end > data.size()) {
    return Truncated(where + " ends at data offset " + Num(end) + ", past the data size " +
                     Num(data.size()));
  }
  if (end - begin != n * info->size) {
    return Malformed(where + " has " + Num(end - begin) + " bytes, its shape and dtype " + dtype +
                     " need " + Num(n * info->size));
  }
  out->data = data.subspan(begin, end - begin);
  return Status::Ok();
}

}  // namespace

std::uint64_t StTensor::n_elements() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape) n *= d;
  return n;
}

std::uint64_t StTensor::n_rows() const {
  if (shape.size() <= 1) return 1;
  std::uint64_t n = 1;
  for (std::size_t i = 0; i + 1 < shape.size(); ++i) n *= shape[i];
  return n;
}

Status ParseSafetensors(std::span<const std::uint8_t> bytes, std::string_view what,
                        std::vector<StTensor>* tensors,
                        std::map<std::string, std::string>* metadata) {
  const std::string prefix = "convert: " + std::string(what) + ": ";
  tensors->clear();
  metadata->clear();
  if (bytes.size() < 8) {
    return Truncated(prefix + "file of " + Num(bytes.size()) +
                     " bytes ends inside the 8-byte header length");
  }
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);  // little-endian host (x86-64)
  if (header_len > kMaxHeaderBytes) {
    return OutOfRange(prefix + "header length " + Num(header_len) + " exceeds the limit " +
                      Num(kMaxHeaderBytes));
  }
  if (header_len > bytes.size() - 8) {
    return Truncated(prefix + "header of " + Num(header_len) + " bytes runs past the file size " +
                     Num(bytes.size()));
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + 8), header_len);
  Result<Json> parsed = ParseJsonText(header, std::string(what) + " header");
  if (!parsed.ok()) return parsed.status();
  const Json& j = parsed.value();
  const std::span<const std::uint8_t> data = bytes.subspan(8 + header_len);

  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) return Malformed(prefix + "__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) {
          return Malformed(prefix + "__metadata__ value \"" + m.key() + "\" is not a string");
        }
        (*metadata)[m.key()] = m->get<std::string>();
      }
      continue;
    }
    StTensor t;
    TS_RETURN_IF_ERROR(ParseEntry(prefix, it.key(), *it, data, &t));
    tensors->push_back(std::move(t));
  }
  std::sort(tensors->begin(), tensors->end(), [&](const StTensor& a, const StTensor& b) {
    return a.data.data() - data.data() < b.data.data() - data.data();
  });
  for (std::size_t i = 1; i < tensors->size(); ++i) {
    const StTensor& prev = (*tensors)[i - 1];
    const StTensor& cur = (*tensors)[i];
    if (prev.data.data() + prev.data.size() > cur.data.data()) {
      return Malformed(prefix + "tensors \"" + prev.name + "\" and \"" + cur.name +
                       "\" overlap in the data buffer");
    }
  }
  return Status::Ok();
}

Result<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  SafetensorsFile f;
  TS_ASSIGN_OR_RETURN(f.file_, base::MappedFile::Open(path));
  TS_RETURN_IF_ERROR(ParseSafetensors(f.file_.bytes(), path, &f.tensors_, &f.metadata_));
  return f;
}

}  // namespace tessera::convert
