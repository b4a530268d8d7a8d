// SpmModel: the parts of a SentencePiece `tokenizer.model` (a serialized ModelProto, protobuf
// binary) that a llama GGUF vocabulary needs.
//
// Fields read (sentencepiece_model.proto, proto2; defaults in brackets):
//   ModelProto      pieces = 1 (repeated SentencePiece), trainer_spec = 2, normalizer_spec = 3
//   SentencePiece   piece = 1 (string), score = 2 (float) [0], type = 3 (enum) [NORMAL]
//                   types: NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6
//   TrainerSpec     model_type = 3 [UNIGRAM] (UNIGRAM 1, BPE 2, WORD 3, CHAR 4),
//                   byte_fallback = 35 [false], unk_id = 40 [0], bos_id = 41 [1],
//                   eos_id = 42 [2], pad_id = 43 [-1]
//   NormalizerSpec  name = 1 (string), add_dummy_prefix = 3 [true],
//                   remove_extra_whitespaces = 4 [true]
// Every other field is skipped by its wire type. The GGUF token types use the same numbers as
// SentencePiece's piece types.
//
// Thread safety: plain data; ParseSpmModel is reentrant.
#ifndef TESSERA_CONVERT_SPM_MODEL_H_
#define TESSERA_CONVERT_SPM_MODEL_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera::convert {

inline constexpr std::size_t kMaxSpmPieces = std::size_t{1} << 22;

struct SpmPiece {
  std::string piece;
  float score = 0.0f;
  std::int32_t type = 1;  // NORMAL
};

struct SpmModel {
  std::vector<SpmPiece> pieces;
  std::int32_t model_type = 1;  // UNIGRAM (the proto default)
  bool byte_fallback = false;
  std::int32_t unk_id = 0;
  std::int32_t bos_id = 1;
  std::int32_t eos_id = 2;
  std::int32_t pad_id = -1;
  std::string normalizer_name;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
};

// Errors: kTruncated / kMalformed (wire format, a piece type outside 1..6, a field of the wrong
// wire type), kOutOfRange (more than kMaxSpmPieces pieces). `what` names the file in messages.
Result<SpmModel> ParseSpmModel(std::span<const std::uint8_t> bytes, std::string_view what);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_SPM_MODEL_H_
