#include "tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <queue>
#include <utility>

#include "base/utf8.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/symbol_chain.h"

namespace tessera::tokenizer {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁"

// A run of bytes of the escaped fragment; merged symbols are linked into a list.
struct Bigram {
  std::int32_t left;
  std::int32_t right;
  float score;
  std::uint32_t size;  // bytes of the merged text when queued
};

// Orders the max-heap: higher score first, then the leftmost pair.
struct BigramLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

// Work buffers of one Encode call, reused across its fragments.
class SpmSession {
 public:
  explicit SpmSession(const Vocab& vocab) : vocab_(vocab) {}

  // Appends the tokens of `escaped` (already space-prefixed and "▁"-escaped) to `out`.
  Status Tokenize(std::string_view escaped, std::vector<std::int32_t>* out) {
    text_ = escaped;
    SplitIntoSymbols(escaped, symbols_);
    const auto n_symbols = static_cast<std::int32_t>(symbols_.size());
    for (std::int32_t i = 1; i < n_symbols; ++i) TryAddBigram(i - 1, i);

    while (!queue_.empty()) {
      const Bigram bigram = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[bigram.left];
      Symbol& right = symbols_[bigram.right];
      if (left.n == 0 || right.n == 0 || left.n + right.n != bigram.size) continue;  // stale
      left.n += right.n;
      right.n = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = bigram.left;
      TryAddBigram(left.prev, bigram.left);
      TryAddBigram(bigram.left, left.next);
    }

    // A merged symbol's text is always a token (it was queued only then), so only single
    // characters missing from the vocabulary fall back to bytes. (llama.cpp's rev_merge lookup
    // can therefore never fire; leaving it out gives the same output.)
    for (std::int32_t i = n_symbols > 0 ? 0 : -1; i != -1; i = symbols_[i].next) {
      const Symbol& s = symbols_[i];
      const std::string_view piece = text_.substr(s.start, s.n);
      const std::int32_t id = vocab_.Find(piece);
      if (id != Vocab::kNoToken) {
        out->push_back(id);
        continue;
      }
      for (char c : piece) {
        std::int32_t byte_id = vocab_.ByteToToken(static_cast<std::uint8_t>(c));
        if (byte_id == Vocab::kNoToken) byte_id = vocab_.unk_id();
        if (byte_id == Vocab::kNoToken) {
          return Status(StatusCode::kNotFound,
                        "tokenizer: byte " + std::to_string(static_cast<std::uint8_t>(c)) +
                            " has no byte token and the vocabulary has no UNK token");
        }
        out->push_back(byte_id);
      }
    }
    return Status::Ok();
  }

 private:
  void TryAddBigram(std::int32_t left, std::int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols_[left];
    const std::uint32_t size = l.n + symbols_[right].n;
    const std::int32_t id = vocab_.Find(text_.substr(l.start, size));
    if (id == Vocab::kNoToken) return;
    queue_.push({left, right, vocab_.score(id), size});
  }

  const Vocab& vocab_;
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramLess> queue_;  // empty between calls
};

// Appends `text` to `out` with every ' ' replaced by "▁".
void AppendEscaped(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == ' ') {
      out->append(kSpaceMark);
    } else {
      out->push_back(c);
    }
  }
}

std::string ComputePiece(const Vocab& vocab, std::int32_t id) {
  const TokenAttrs attrs = vocab.attrs(id);
  if (attrs & (kAttrControl | kAttrUnknown)) return "";
  if (attrs & kAttrUserDefined) return vocab.text(id);
  if (attrs & kAttrNormal) {
    std::string piece;
    const std::string& text = vocab.text(id);
    for (std::size_t i = 0; i < text.size();) {
      if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
        piece.push_back(' ');
        i += kSpaceMark.size();
      } else {
        piece.push_back(text[i++]);
      }
    }
    return piece;
  }
  if (attrs & kAttrByte) return std::string(1, static_cast<char>(vocab.ByteValue(id)));
  return "";  // unused and undefined tokens
}

}  // namespace

SpmTokenizer::SpmTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) {
  const Vocab& v = this->vocab();
  pieces_.reserve(static_cast<std::size_t>(v.size()));
  for (std::int32_t id = 0; id < v.size(); ++id) pieces_.push_back(ComputePiece(v, id));
}

std::string SpmTokenizer::TokenToPiece(std::int32_t id) const {
  if (id < 0 || id >= static_cast<std::int32_t>(pieces_.size())) return "";
  return pieces_[static_cast<std::size_t>(id)];
}

Result<std::vector<std::int32_t>> SpmTokenizer::Encode(std::string_view text,
                                                       const EncodeOptions& opts) const {
  TS_RETURN_IF_ERROR(CheckInput(text));

  const Vocab& v = vocab();
  std::vector<std::int32_t> out;
  out.reserve(text.size() / 2 + 2);
  const bool add_special = opts.add_bos;
  if (add_special && v.add_bos()) out.push_back(v.bos_id());

  SpmSession session(v);
  std::string escaped;
  bool prev_special = true;  // the first raw fragment gets the space prefix too
  for (const Fragment& f : PartitionSpecialTokens(v, text, opts.parse_special)) {
    if (f.is_token()) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    escaped.clear();
    if (v.add_space_prefix() && prev_special) escaped.append(kSpaceMark);
    AppendEscaped(text.substr(f.offset, f.length), &escaped);
    TS_RETURN_IF_ERROR(session.Tokenize(escaped, &out));
    prev_special = false;
  }
  if (add_special && v.add_eos()) out.push_back(v.eos_id());
  return out;
}

}  // namespace tessera::tokenizer
