#include "convert/spm_model.h"

#include "convert/protobuf_wire.h"

namespace tessera::convert {
namespace {

Status WrongWire(std::string_view what, std::string_view message, std::uint32_t number) {
  return Malformed("convert: " + std::string(what) + ": " + std::string(message) + " field " +
                   std::to_string(number) + " has the wrong wire type");
}

Status ParsePiece(std::span<const std::uint8_t> bytes, const std::string& what, SpmPiece* out) {
  WireReader r(bytes, what);
  while (!r.done()) {
    WireField f;
    TS_RETURN_IF_ERROR(r.Next(&f));
    switch (f.number) {
      case 1:
        if (f.type != WireType::kLengthDelimited) return WrongWire(what, "SentencePiece", 1);
        out->piece = std::string(f.AsString());
        break;
      case 2:
        if (f.type != WireType::kFixed32) return WrongWire(what, "SentencePiece", 2);
        out->score = f.AsFloat();
        break;
      case 3:
        if (f.type != WireType::kVarint) return WrongWire(what, "SentencePiece", 3);
        if (f.varint < 1 || f.varint > 6) {
          return Malformed("convert: " + what + ": piece \"" + out->piece + "\" has type " +
                           std::to_string(f.varint) + ", outside 1..6");
        }
        out->type = static_cast<std::int32_t>(f.varint);
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

Status ParseTrainer(std::span<const std::uint8_t> bytes, const std::string& what, SpmModel* m) {
  WireReader r(bytes, what);
  while (!r.done()) {
    WireField f;
    TS_RETURN_IF_ERROR(r.Next(&f));
    const bool varint_field = f.number == 3 || f.number == 35 || (f.number >= 40 && f.number <= 43);
    if (varint_field && f.type != WireType::kVarint)
      return WrongWire(what, "TrainerSpec", f.number);
    switch (f.number) {
      case 3:
        m->model_type = f.AsInt32();
        break;
      case 35:
        m->byte_fallback = f.AsBool();
        break;
      case 40:
        m->unk_id = f.AsInt32();
        break;
      case 41:
        m->bos_id = f.AsInt32();
        break;
      case 42:
        m->eos_id = f.AsInt32();
        break;
      case 43:
        m->pad_id = f.AsInt32();
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

Status ParseNormalizer(std::span<const std::uint8_t> bytes, const std::string& what, SpmModel* m) {
  WireReader r(bytes, what);
  while (!r.done()) {
    WireField f;
    TS_RETURN_IF_ERROR(r.Next(&f));
    switch (f.number) {
      case 1:
        if (f.type != WireType::kLengthDelimited) return WrongWire(what, "NormalizerSpec", 1);
        m->normalizer_name = std::string(f.AsString());
        break;
      case 3:
        if (f.type != WireType::kVarint) return WrongWire(what, "NormalizerSpec", 3);
        m->add_dummy_prefix = f.AsBool();
        break;
      case 4:
        if (f.type != WireType::kVarint) return WrongWire(what, "NormalizerSpec", 4);
        m->remove_extra_whitespaces = f.AsBool();
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<SpmModel> ParseSpmModel(std::span<const std::uint8_t> bytes, std::string_view what_view) {
  const std::string what(what_view);
  SpmModel m;
  WireReader r(bytes, what);
  while (!r.done()) {
    WireField f;
    TS_RETURN_IF_ERROR(r.Next(&f));
    if (f.number >= 1 && f.number <= 3 && f.type != WireType::kLengthDelimited) {
      return WrongWire(what, "ModelProto", f.number);
    }
    switch (f.number) {
      case 1: {
        if (m.pieces.size() >= kMaxSpmPieces) {
          return OutOfRange("convert: " + what + ": more than " + std::to_string(kMaxSpmPieces) +
                            " pieces");
        }
        SpmPiece piece;
        TS_RETURN_IF_ERROR(ParsePiece(f.bytes, what, &piece));
        m.pieces.push_back(std::move(piece));
        break;
      }
      case 2:
        TS_RETURN_IF_ERROR(ParseTrainer(f.bytes, what, &m));
        break;
      case 3:
        TS_RETURN_IF_ERROR(ParseNormalizer(f.bytes, what, &m));
        break;
      default:
        break;
    }
  }
  return m;
}

}  // namespace tessera::convert
