// Byte-level alphabet of GPT-2-style BPE vocabularies: every byte 0..255 stands for one printable
// Unicode code point, so token texts never hold raw control bytes or spaces. Bytes '!'..'~',
// 0xA1..0xAC and 0xAE..0xFF are their own code point; the other 68 bytes (0x00..0x20,
// 0x7F..0xA0, 0xAD), in increasing order, become U+0100, U+0101, ... U+0143 (so ' ' is U+0120
// "Ġ" and '\n' is U+010A "Ċ"). This is the table of GPT-2's bytes_to_unicode(), which
// llama.cpp's unicode.cpp and Hugging Face's ByteLevel pre-tokenizer use as well.
//
// Thread safety: pure functions over compile-time tables.
#ifndef TESSERA_TOKENIZER_BYTE_LEVEL_H_
#define TESSERA_TOKENIZER_BYTE_LEVEL_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::tokenizer {

// The code point that stands for `byte` (U+0021..U+0143).
std::uint32_t ByteToCodepoint(std::uint8_t byte);

// The byte that `codepoint` stands for, or -1 when it is not in the alphabet.
int CodepointToByte(std::uint32_t codepoint);

// Appends the byte-level form of `bytes` (any bytes, one or two UTF-8 bytes out per byte in).
void AppendByteLevel(std::string_view bytes, std::string* out);

// Appends the bytes that byte-level text `text` stands for. A code point outside the alphabet
// (or a malformed sequence) is copied through unchanged, byte for byte. Returns false when that
// happened, true when every code point was in the alphabet.
bool AppendBytesFromByteLevel(std::string_view text, std::string* out);

}  // namespace tessera::tokenizer

#endif  // TESSERA_TOKENIZER_BYTE_LEVEL_H_
