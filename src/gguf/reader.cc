#include "gguf/reader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>

#include "gguf/schema.h"

namespace tessera::gguf {
namespace {

constexpr std::uint32_t kDefaultAlignment = 32;
// Hard ceiling on array nesting whatever ReadLimits says, so recursion depth stays bounded.
constexpr std::uint64_t kHardMaxArrayDepth = 64;
// Smallest encodings, used to bound counts against the remaining bytes before allocating.
constexpr std::uint64_t kMinKeyValueBytes = 8 + 4 + 1;            // empty key, type, u8 value
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, 1 dim

std::string Quote(std::string_view s) {
  std::string out = "\"";
  // Keep messages one line and short: escape control bytes, cut long names.
  std::size_t n = std::min<std::size_t>(s.size(), 96);
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < s.size()) out += "...";
  out += '"';
  return out;
}

std::string Num(std::uint64_t v) { return std::to_string(v); }

// Size in bytes of a scalar value type; 0 for string and array.
std::uint64_t ScalarBytes(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kBool:
      return 1;
    case ValueType::kU16:
    case ValueType::kI16:
      return 2;
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kF32:
      return 4;
    case ValueType::kU64:
    case ValueType::kI64:
    case ValueType::kF64:
      return 8;
    case ValueType::kString:
    case ValueType::kArray:
      return 0;
  }
  return 0;
}

// Smallest encoding of one element of type t inside an array.
std::uint64_t MinElementBytes(ValueType t) {
  if (t == ValueType::kString) return 8;
  if (t == ValueType::kArray) return 4 + 8;
  return ScalarBytes(t);
}

// Names the item being read, for error messages; formatted only when an error occurs, so the
// hot path (32000 vocabulary strings) builds no strings.
struct What {
  std::string_view text;       // "value of key", "name of tensor", ...
  std::string_view name = {};  // key or tensor name, quoted when has_name
  bool has_name = false;
  std::uint64_t index = kNoIndex;  // "#index" when set
  std::string_view suffix = {};    // " length"
  static constexpr std::uint64_t kNoIndex = ~0ull;

  std::string Format() const {
    std::string out(text);
    if (index != kNoIndex) out += " #" + Num(index);
    if (has_name) out += " " + Quote(name);
    out += suffix;
    return out;
  }
};

What Plain(std::string_view text) { return What{text}; }
What Named(std::string_view text, std::string_view name) { return What{text, name, true}; }
What Indexed(std::string_view text, std::uint64_t index) { return What{text, {}, false, index}; }

}  // namespace

// Parses one GGUF image. A friend of File so it can fill the private members.
class Parser {
 public:
  Parser(std::span<const std::uint8_t> bytes, const ReadLimits& limits)
      : bytes_(bytes), limits_(limits) {}

  Status Run(File& file);

 private:
  std::uint64_t remaining() const { return bytes_.size() - pos_; }

  // `what` names the item being read, for the message.
  Status Need(std::uint64_t n, const What& what) const {
    if (n > remaining()) {
      return Truncated("gguf: " + what.Format() + " at offset " + Num(pos_) + " needs " + Num(n) +
                       " bytes, only " + Num(remaining()) + " remain in the file of " +
                       Num(bytes_.size()) + " bytes");
    }
    return Status::Ok();
  }

  template <typename T>
  Status Read(T* out, const What& what) {
    TS_RETURN_IF_ERROR(Need(sizeof(T), what));
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));  // little-endian host (x86-64)
    pos_ += sizeof(T);
    return Status::Ok();
  }

  Status ReadString(std::string* out, const What& what) {
    std::uint64_t len = 0;
    What length_what = what;
    length_what.suffix = " length";
    TS_RETURN_IF_ERROR(Read(&len, length_what));
    if (len > limits_.max_string_bytes && len <= remaining()) {
      return OutOfRange("gguf: " + what.Format() + " at offset " + Num(pos_ - 8) + " is " +
                        Num(len) + " bytes, over the limit of " + Num(limits_.max_string_bytes));
    }
    TS_RETURN_IF_ERROR(Need(len, what));
    out->assign(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return Status::Ok();
  }

  Status ReadValue(ValueType type, std::uint64_t depth, std::string_view key, Value* out);
  Status ReadArray(std::uint64_t depth, std::string_view key, Value* out);
  Status ReadTensorInfo(std::size_t index, TensorInfo* info, std::uint64_t* raw_offset);

  std::span<const std::uint8_t> bytes_;
  ReadLimits limits_;
  std::uint64_t pos_ = 0;
};

Status Parser::ReadValue(ValueType type, std::uint64_t depth, std::string_view key, Value* out) {
  const What what = Named("value of key", key);
  switch (type) {
    case ValueType::kU8: {
      std::uint8_t v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::U8(v);
      break;
    }
    case ValueType::kI8: {
      std::int8_t v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::I8(v);
      break;
    }
    case ValueType::kU16: {
      std::uint16_t v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::U16(v);
      break;
    }
    case ValueType::kI16: {
      std::int16_t v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::I16(v);
      break;
    }
    case ValueType::kU32: {
      std::uint32_t v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::U32(v);
      break;
    }
    case ValueType::kI32: {
      std::int32_t v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::I32(v);
      break;
    }
    case ValueType::kU64: {
      std::uint64_t v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::U64(v);
      break;
    }
    case ValueType::kI64: {
      std::int64_t v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::I64(v);
      break;
    }
    case ValueType::kF32: {
      float v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::F32(v);
      break;
    }
    case ValueType::kF64: {
      double v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      *out = Value::F64(v);
      break;
    }
    case ValueType::kBool: {
      std::uint8_t v;
      TS_RETURN_IF_ERROR(Read(&v, what));
      if (v > 1) {
        return Malformed("gguf: bool " + what.Format() + " at offset " + Num(pos_ - 1) +
                         " is byte " + Num(v) + ", expected 0 or 1");
      }
      *out = Value::Bool(v == 1);
      break;
    }
    case ValueType::kString: {
      std::string s;
      TS_RETURN_IF_ERROR(ReadString(&s, Named("string value of key", key)));
      *out = Value::String(std::move(s));
      break;
    }
    case ValueType::kArray:
      return ReadArray(depth + 1, key, out);
  }
  return Status::Ok();
}

Status Parser::ReadArray(std::uint64_t depth, std::string_view key, Value* out) {
  std::uint64_t max_depth = std::min(limits_.max_array_depth, kHardMaxArrayDepth);
  if (depth > max_depth) {
    return Malformed("gguf: array in key " + Quote(key) + " at offset " + Num(pos_) + " nests " +
                     Num(depth) + " deep, over the limit of " + Num(max_depth));
  }
  const What what = Named("array header of key", key);
  std::uint32_t raw_type = 0;
  std::uint64_t count = 0;
  TS_RETURN_IF_ERROR(Read(&raw_type, what));
  if (!IsKnownValueType(raw_type)) {
    return Malformed("gguf: array in key " + Quote(key) + " at offset " + Num(pos_ - 4) +
                     " has unknown element type " + Num(raw_type) + " (known: 0..12)");
  }
  TS_RETURN_IF_ERROR(Read(&count, what));
  auto type = static_cast<ValueType>(raw_type);
  std::uint64_t min_bytes = MinElementBytes(type);
  if (count > remaining() / min_bytes) {
    return Truncated(
        "gguf: array in key " + Quote(key) + " at offset " + Num(pos_ - 8) + " declares " +
        Num(count) + " " + std::string(ValueTypeName(type)) + " elements, needing at least " +
        (count > std::numeric_limits<std::uint64_t>::max() / min_bytes ? std::string("2^64")
                                                                       : Num(count * min_bytes)) +
        " bytes, but only " + Num(remaining()) + " remain");
  }
  if (count > limits_.max_array_elements) {
    return OutOfRange("gguf: array in key " + Quote(key) + " has " + Num(count) +
                      " elements, over the limit of " + Num(limits_.max_array_elements));
  }
  Array array;
  array.element_type = type;
  array.items.resize(count);  // bounded above by the remaining bytes
  for (std::uint64_t i = 0; i < count; ++i) {
    TS_RETURN_IF_ERROR(ReadValue(type, depth, key, &array.items[i]));
  }
  *out = Value::MakeArray(std::move(array));
  return Status::Ok();
}

Status Parser::ReadTensorInfo(std::size_t index, TensorInfo* info, std::uint64_t* raw_offset) {
  TS_RETURN_IF_ERROR(ReadString(&info->name, Indexed("name of tensor", index)));
  std::string what = "tensor " + Quote(info->name);
  std::uint32_t n_dims = 0;
  TS_RETURN_IF_ERROR(Read(&n_dims, Named("n_dims of tensor", info->name)));
  if (n_dims < 1 || n_dims > limits_.max_dims) {
    return Malformed("gguf: " + what + " has n_dims " + Num(n_dims) + ", expected 1.." +
                     Num(limits_.max_dims));
  }
  TS_RETURN_IF_ERROR(Need(std::uint64_t{n_dims} * 8, Named("dims of tensor", info->name)));
  info->dims.resize(n_dims);
  std::uint64_t n_elements = 1;
  for (std::uint32_t d = 0; d < n_dims; ++d) {
    std::uint64_t dim = 0;
    TS_RETURN_IF_ERROR(Read(&dim, Named("dims of tensor", info->name)));
    if (dim == 0) {
      return Malformed("gguf: " + what + " has dims[" + Num(d) + "] = 0");
    }
    constexpr auto kMaxElements =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (dim > kMaxElements / n_elements) {
      return Malformed("gguf: " + what + " element count overflows at dims[" + Num(d) +
                       "] = " + Num(dim) + " (limit 2^63-1 elements)");
    }
    n_elements *= dim;
    info->dims[d] = dim;
  }
  std::uint32_t raw_type = 0;
  TS_RETURN_IF_ERROR(Read(&raw_type, Named("type of tensor", info->name)));
  std::optional<tensor::TypeTraits> traits = tensor::TraitsOf(raw_type);
  if (!traits.has_value()) {
    return Unsupported("gguf: " + what + " has unknown tensor type " + Num(raw_type));
  }
  info->type = traits->type;
  if (info->dims[0] % traits->block_size != 0) {
    return Malformed("gguf: " + what + " row length " + Num(info->dims[0]) +
                     " is not a multiple of the " + std::string(traits->name) + " block size " +
                     Num(traits->block_size));
  }
  std::uint64_t n_blocks = n_elements / traits->block_size;
  if (n_blocks > std::numeric_limits<std::uint64_t>::max() / traits->type_size) {
    return Malformed("gguf: " + what + " byte size overflows 64 bits");
  }
  info->size_bytes = n_blocks * traits->type_size;
  TS_RETURN_IF_ERROR(Read(raw_offset, Named("offset of tensor", info->name)));
  info->offset = *raw_offset;
  return Status::Ok();
}

Status Parser::Run(File& file) {
  // Header.
  if (bytes_.size() < 4) {
    return Truncated("gguf: file of " + Num(bytes_.size()) +
                     " bytes is too short for the magic (4 bytes)");
  }
  if (std::memcmp(bytes_.data(), "GGUF", 4) != 0) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%02x %02x %02x %02x", bytes_[0], bytes_[1], bytes_[2],
                  bytes_[3]);
    std::string shown(reinterpret_cast<const char*>(bytes_.data()), 4);
    return Malformed("gguf: bad magic " + std::string(buf) + " (" + Quote(shown) +
                     "), expected 47 47 55 46 (\"GGUF\")");
  }
  pos_ = 4;
  std::uint32_t version = 0;
  TS_RETURN_IF_ERROR(Read(&version, Plain("version")));
  if (version != 2 && version != 3) {
    std::string hint;
    if (version == 1) hint = " (GGUF v1 uses 32-bit counts and is not supported)";
    if (version >= 0x01000000u) hint = " (a big-endian file?)";
    return Unsupported("gguf: version " + Num(version) + " is not supported, expected 2 or 3" +
                       hint);
  }
  file.version_ = version;
  std::uint64_t tensor_count = 0;
  std::uint64_t kv_count = 0;
  TS_RETURN_IF_ERROR(Read(&tensor_count, Plain("tensor_count")));
  TS_RETURN_IF_ERROR(Read(&kv_count, Plain("metadata_kv_count")));
  if (kv_count > remaining() / kMinKeyValueBytes) {
    return Truncated("gguf: metadata_kv_count " + Num(kv_count) + " needs at least " +
                     Num(kMinKeyValueBytes) + " bytes each, but only " + Num(remaining()) +
                     " bytes remain");
  }
  if (tensor_count > (remaining() - kv_count * kMinKeyValueBytes) / kMinTensorInfoBytes) {
    return Truncated("gguf: tensor_count " + Num(tensor_count) + " needs at least " +
                     Num(kMinTensorInfoBytes) + " bytes each, but only " + Num(remaining()) +
                     " bytes remain");
  }

  // Metadata.
  file.metadata_.resize(kv_count);
  std::unordered_set<std::string_view> keys;
  keys.reserve(kv_count);
  for (std::uint64_t i = 0; i < kv_count; ++i) {
    KeyValue& kv = file.metadata_[i];
    TS_RETURN_IF_ERROR(ReadString(&kv.key, Indexed("key", i)));
    std::uint32_t raw_type = 0;
    TS_RETURN_IF_ERROR(Read(&raw_type, Named("value type of key", kv.key)));
    if (!IsKnownValueType(raw_type)) {
      return Malformed("gguf: key " + Quote(kv.key) + " has unknown value type " + Num(raw_type) +
                       " (known: 0..12)");
    }
    TS_RETURN_IF_ERROR(ReadValue(static_cast<ValueType>(raw_type), 0, kv.key, &kv.value));
    if (!keys.insert(kv.key).second) {
      return Status(StatusCode::kDuplicate, "gguf: metadata key " + Quote(kv.key) +
                                                " occurs twice (second at #" + Num(i) + ")");
    }
  }
  TS_RETURN_IF_ERROR(CheckWellKnownTypes(file.metadata_));
  if (const Value* a = file.Find("general.alignment"); a != nullptr) {
    std::uint64_t alignment = *a->AsU64();  // CheckWellKnownTypes made sure it is a u32
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
      return Malformed("gguf: general.alignment " + Num(alignment) +
                       " is not a non-zero power of two");
    }
    file.alignment_ = static_cast<std::uint32_t>(alignment);
  } else {
    file.alignment_ = kDefaultAlignment;
  }

  // Tensor infos.
  file.tensors_.resize(tensor_count);
  std::unordered_set<std::string_view> names;
  names.reserve(tensor_count);
  for (std::uint64_t i = 0; i < tensor_count; ++i) {
    TensorInfo& info = file.tensors_[i];
    std::uint64_t offset = 0;
    TS_RETURN_IF_ERROR(ReadTensorInfo(i, &info, &offset));
    if (!names.insert(info.name).second) {
      return Status(StatusCode::kDuplicate, "gguf: tensor name " + Quote(info.name) +
                                                " occurs twice (second at #" + Num(i) + ")");
    }
    if (offset % file.alignment_ != 0) {
      return Malformed("gguf: tensor " + Quote(info.name) + " offset " + Num(offset) +
                       " is not a multiple of the alignment " + Num(file.alignment_));
    }
  }

  // Data section: starts at the next multiple of the alignment.
  std::uint64_t data_offset = (pos_ + file.alignment_ - 1) / file.alignment_ * file.alignment_;
  file.data_offset_ = data_offset;
  const std::uint64_t file_size = bytes_.size();
  for (TensorInfo& info : file.tensors_) {
    // offset and size are each below 2^64; compare without overflow.
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    bool overflow = __builtin_add_overflow(data_offset, info.offset, &start) ||
                    __builtin_add_overflow(start, info.size_bytes, &end);
    if (overflow || end > file_size) {
      return Truncated("gguf: tensor " + Quote(info.name) + " (offset " + Num(info.offset) + ", " +
                       Num(info.size_bytes) + " bytes) ends at " +
                       (overflow ? std::string("more than 2^64") : Num(end)) + ", past file size " +
                       Num(file_size));
    }
    info.data = bytes_.subspan(data_offset + info.offset, info.size_bytes);
  }
  // The data section ends with the last tensor padded to the alignment, as llama.cpp and
  // gguf-py write it (llama.cpp reads the padded size when it loads the data blob).
  if (!file.tensors_.empty()) {
    std::uint64_t data_end = 0;
    for (const TensorInfo& info : file.tensors_) {
      data_end = std::max(data_end, info.offset + info.size_bytes);  // checked above
    }
    std::uint64_t padded = (data_end + file.alignment_ - 1) / file.alignment_ * file.alignment_;
    if (padded > file_size - data_offset) {
      return Truncated("gguf: data section ends at " + Num(data_offset + padded) +
                       " after padding the last tensor to the alignment " + Num(file.alignment_) +
                       ", past file size " + Num(file_size));
    }
  }
  // Overlap: sort indices by offset and compare neighbours.
  std::vector<std::size_t> order(file.tensors_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return file.tensors_[a].offset < file.tensors_[b].offset;
  });
  for (std::size_t i = 1; i < order.size(); ++i) {
    const TensorInfo& prev = file.tensors_[order[i - 1]];
    const TensorInfo& cur = file.tensors_[order[i]];
    if (prev.offset + prev.size_bytes > cur.offset) {
      return Malformed("gguf: tensor " + Quote(prev.name) + " [" + Num(prev.offset) + ", " +
                       Num(prev.offset + prev.size_bytes) + ") overlaps tensor " + Quote(cur.name) +
                       " starting at " + Num(cur.offset));
    }
  }
  return Status::Ok();
}

std::uint64_t TensorInfo::n_elements() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : dims) n *= d;
  return n;
}

std::uint64_t TensorInfo::n_rows() const {
  std::uint64_t n = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

Result<File> File::Open(const std::string& path, const ReadLimits& limits) {
  TS_ASSIGN_OR_RETURN(base::MappedFile mapped, base::MappedFile::Open(path));
  auto mapping = std::make_unique<base::MappedFile>(std::move(mapped));
  Result<File> parsed = Parse(mapping->bytes(), limits);
  if (!parsed.ok()) return parsed.status().WithContext(path);
  File file = std::move(parsed).value();
  file.mapping_ = std::move(mapping);
  file.path_ = path;
  return file;
}

Result<File> File::Parse(std::span<const std::uint8_t> bytes, const ReadLimits& limits) {
  File file;
  file.bytes_ = bytes;
  Parser parser(bytes, limits);
  TS_RETURN_IF_ERROR(parser.Run(file));
  file.BuildIndex();
  return file;
}

void File::BuildIndex() {
  key_index_.clear();
  tensor_index_.clear();
  key_index_.reserve(metadata_.size());
  tensor_index_.reserve(tensors_.size());
  for (std::size_t i = 0; i < metadata_.size(); ++i) key_index_.emplace(metadata_[i].key, i);
  for (std::size_t i = 0; i < tensors_.size(); ++i) tensor_index_.emplace(tensors_[i].name, i);
}

const Value* File::Find(std::string_view key) const {
  if (!key_index_.empty() || metadata_.empty()) {
    auto it = key_index_.find(key);
    return it == key_index_.end() ? nullptr : &metadata_[it->second].value;
  }
  for (const KeyValue& kv : metadata_) {  // during parsing, before the index exists
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

const TensorInfo* File::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

Status NotFoundKey(std::string_view key) {
  return NotFound("gguf: key " + Quote(key) + " not found");
}

Status Mismatch(std::string_view key, const Value& v, std::string_view expected) {
  return Status(StatusCode::kTypeMismatch, "gguf: key " + Quote(key) + " is " +
                                               std::string(ValueTypeName(v.type())) +
                                               ", expected " + std::string(expected));
}

Status DoesNotFit(std::string_view key, const Value& v, std::string_view expected) {
  std::string shown =
      v.AsI64().has_value() ? std::to_string(*v.AsI64()) : std::to_string(v.AsU64().value_or(0));
  return Status(StatusCode::kTypeMismatch, "gguf: key " + Quote(key) + " value " + shown + " (" +
                                               std::string(ValueTypeName(v.type())) +
                                               ") does not fit in " + std::string(expected));
}

}  // namespace

Result<std::string_view> File::GetString(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return NotFoundKey(key);
  if (!v->is_string()) return Mismatch(key, *v, "string");
  return std::string_view(v->string());
}

Result<std::uint64_t> File::GetU64(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return NotFoundKey(key);
  if (!v->is_integer()) return Mismatch(key, *v, "an integer");
  std::optional<std::uint64_t> u = v->AsU64();
  if (!u.has_value()) return DoesNotFit(key, *v, "u64");
  return *u;
}

Result<std::uint32_t> File::GetU32(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return NotFoundKey(key);
  if (!v->is_integer()) return Mismatch(key, *v, "an integer");
  std::optional<std::uint64_t> u = v->AsU64();
  if (!u.has_value() || *u > std::numeric_limits<std::uint32_t>::max()) {
    return DoesNotFit(key, *v, "u32");
  }
  return static_cast<std::uint32_t>(*u);
}

Result<std::int64_t> File::GetI64(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return NotFoundKey(key);
  if (!v->is_integer()) return Mismatch(key, *v, "an integer");
  std::optional<std::int64_t> i = v->AsI64();
  if (!i.has_value()) return DoesNotFit(key, *v, "i64");
  return *i;
}

Result<float> File::GetF32(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return NotFoundKey(key);
  if (!v->is_float()) return Mismatch(key, *v, "f32 or f64");
  return static_cast<float>(*v->AsF64());
}

Result<bool> File::GetBool(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return NotFoundKey(key);
  if (v->type() != ValueType::kBool) return Mismatch(key, *v, "bool");
  return *v->AsBool();
}

Result<const Array*> File::GetArray(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return NotFoundKey(key);
  if (!v->is_array()) return Mismatch(key, *v, "array");
  return &v->array();
}

}  // namespace tessera::gguf
