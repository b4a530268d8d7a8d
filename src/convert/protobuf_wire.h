// A minimal reader of the protobuf wire format, enough for SentencePiece's ModelProto.
//
// Wire format: a message is a sequence of fields; each starts with a varint key
// (field_number << 3 | wire_type). Wire types: 0 varint (int32/int64/uint/bool/enum; negative
// int32 values are sign-extended to 10 bytes), 1 fixed64 (8 bytes LE), 2 length-delimited
// (varint length, then bytes: strings, bytes, sub-messages, packed repeated), 5 fixed32 (4 bytes
// LE: float, fixed32). Wire types 3 and 4 (groups) are deprecated and refused.
// Every read is bounds-checked; a varint longer than 10 bytes or a length past the end of the
// buffer is an error (kMalformed / kTruncated), never an overread.
//
// Ownership: WireReader borrows the bytes. Thread safety: not shared.
#ifndef TESSERA_CONVERT_PROTOBUF_WIRE_H_
#define TESSERA_CONVERT_PROTOBUF_WIRE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "tessera/status.h"

namespace tessera::convert {

enum class WireType : std::uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kFixed32 = 5
};

struct WireField {
  std::uint32_t number = 0;
  WireType type = WireType::kVarint;
  std::uint64_t varint = 0;             // kVarint, kFixed64 (raw bits), kFixed32 (raw bits)
  std::span<const std::uint8_t> bytes;  // kLengthDelimited

  std::int32_t AsInt32() const { return static_cast<std::int32_t>(varint); }
  bool AsBool() const { return varint != 0; }
  float AsFloat() const;  // kFixed32
  std::string_view AsString() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
};

class WireReader {
 public:
  // `what` prefixes error messages ("convert: tokenizer.model: ...").
  WireReader(std::span<const std::uint8_t> bytes, std::string what)
      : bytes_(bytes), what_(std::move(what)) {}

  bool done() const { return pos_ >= bytes_.size(); }
  // Reads the next field. Errors: kTruncated (the buffer ends inside it), kMalformed (a bad
  // varint, field number 0, or a group / unknown wire type).
  Status Next(WireField* field);

 private:
  Status ReadVarint(std::uint64_t* v);
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  std::string what_;
};

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_PROTOBUF_WIRE_H_
