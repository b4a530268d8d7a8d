#include "convert/protobuf_wire.h"

#include <cstring>

namespace tessera::convert {

float WireField::AsFloat() const {
  const auto bits = static_cast<std::uint32_t>(varint);
  float f = 0.0f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

Status WireReader::ReadVarint(std::uint64_t* v) {
  std::uint64_t result = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= bytes_.size()) {
      return Truncated("convert: " + what_ + ": the data ends inside a varint at byte " +
                       std::to_string(pos_));
    }
    const std::uint8_t b = bytes_[pos_++];
    result |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *v = result;
      return Status::Ok();
    }
  }
  return Malformed("convert: " + what_ + ": varint longer than 10 bytes at byte " +
                   std::to_string(pos_));
}

Status WireReader::Next(WireField* field) {
  const std::size_t start = pos_;
  std::uint64_t key = 0;
  TS_RETURN_IF_ERROR(ReadVarint(&key));
  const std::uint64_t number = key >> 3;
  const auto type = static_cast<std::uint32_t>(key & 7);
  if (number == 0 || number > 0x1fffffff) {
    return Malformed("convert: " + what_ + ": invalid field number " + std::to_string(number) +
                     " at byte " + std::to_string(start));
  }
  field->number = static_cast<std::uint32_t>(number);
  field->bytes = {};
  field->varint = 0;
  auto need = [&](std::uint64_t n) -> Status {
    if (n > bytes_.size() - pos_) {
      return Truncated("convert: " + what_ + ": field " + std::to_string(number) + " at byte " +
                       std::to_string(start) + " needs " + std::to_string(n) + " bytes, only " +
                       std::to_string(bytes_.size() - pos_) + " remain");
    }
    return Status::Ok();
  };
  switch (type) {
    case 0:
      field->type = WireType::kVarint;
      return ReadVarint(&field->varint);
    case 1:
      field->type = WireType::kFixed64;
      TS_RETURN_IF_ERROR(need(8));
      std::memcpy(&field->varint, bytes_.data() + pos_, 8);
      pos_ += 8;
      return Status::Ok();
    case 2: {
      field->type = WireType::kLengthDelimited;
      std::uint64_t len = 0;
      TS_RETURN_IF_ERROR(ReadVarint(&len));
      TS_RETURN_IF_ERROR(need(len));
      field->bytes = bytes_.subspan(pos_, static_cast<std::size_t>(len));
      pos_ += static_cast<std::size_t>(len);
      return Status::Ok();
    }
    case 5: {
      field->type = WireType::kFixed32;
      TS_RETURN_IF_ERROR(need(4));
      std::uint32_t bits = 0;
      std::memcpy(&bits, bytes_.data() + pos_, 4);
      field->varint = bits;
      pos_ += 4;
      return Status::Ok();
    }
    default:
      return Malformed("convert: " + what_ + ": field " + std::to_string(number) + " at byte " +
                       std::to_string(start) + " has unsupported wire type " +
                       std::to_string(type));
  }
}

}  // namespace tessera::convert
