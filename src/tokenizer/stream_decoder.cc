#include "tokenizer/stream_decoder.h"

#include <string_view>
#include <utility>

namespace tessera::tokenizer {
namespace {

// Length of the UTF-8 sequence a valid lead byte starts (2..4), or 0 if `lead` cannot start a
// multi-byte sequence.
std::size_t LeadLength(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Whether `second` may follow `lead` in a well-formed sequence (no overlongs or surrogates).
bool SecondByteOk(unsigned char lead, unsigned char second) {
  if (lead == 0xE0) return second >= 0xA0 && second <= 0xBF;
  if (lead == 0xED) return second >= 0x80 && second <= 0x9F;
  if (lead == 0xF0) return second >= 0x90 && second <= 0xBF;
  if (lead == 0xF4) return second >= 0x80 && second <= 0x8F;
  return (second & 0xC0) == 0x80;
}

// Number of bytes at the end of `s` that form a valid but incomplete UTF-8 sequence (0..3).
std::size_t IncompleteTail(std::string_view s) {
  const std::size_t n = s.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const std::size_t need = LeadLength(c);
    if (need == 0 || back >= need) return 0;  // ASCII, invalid lead, or already complete
    if (back >= 2 && !SecondByteOk(c, static_cast<unsigned char>(s[n - back + 1]))) return 0;
    return back;
  }
  return 0;
}

}  // namespace

std::string StreamDecoder::Push(std::int32_t id) {
  pending_ += tokenizer_->TokenToPiece(id);
  const std::size_t hold = IncompleteTail(pending_);
  std::string ready = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return ready;
}

std::string StreamDecoder::Flush() {
  std::string rest = std::move(pending_);
  pending_.clear();
  return rest;
}

}  // namespace tessera::tokenizer
