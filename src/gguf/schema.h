// Types required of the well-known metadata keys (internal to the gguf layer).
//
// The reader refuses a file, and the writer refuses to write one, when a key that llama.cpp gives
// a fixed type holds another type: general.alignment must be a u32, tokenizer.ggml.tokens an
// array of strings, "<arch>.block_count" an integer, and so on (see schema.cc for the table).
// Unknown keys are not checked. Thread safety: pure functions.
#ifndef TESSERA_GGUF_SCHEMA_H_
#define TESSERA_GGUF_SCHEMA_H_

#include <string_view>
#include <vector>

#include "gguf/value.h"
#include "tessera/status.h"

namespace tessera::gguf {

struct KeyValue;

// OK, or kTypeMismatch naming the key, the expected type and the type found.
Status CheckWellKnownTypes(const std::vector<KeyValue>& metadata);

}  // namespace tessera::gguf

#endif  // TESSERA_GGUF_SCHEMA_H_
