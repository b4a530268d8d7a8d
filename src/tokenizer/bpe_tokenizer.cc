#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <queue>
#include <utility>

#include "base/utf8.h"
#include "gguf/keys.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/symbol_chain.h"

namespace tessera::tokenizer {
namespace {

// A run of bytes of the byte-level word; merged symbols are linked into a list.
struct Bigram {
  std::int32_t left;
  std::int32_t right;
  std::int32_t rank;
  std::uint32_t size;  // bytes of the merged text when queued
};

// Orders the heap so that top() is the lowest rank, then the leftmost pair.
struct BigramAfter {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

// Work buffers of one Encode call, reused across its words.
class BpeSession {
 public:
  BpeSession(const Vocab& vocab, const BpeMerges& merges) : vocab_(vocab), merges_(merges) {}

  // Appends the tokens of byte-level word `word` to `out`.
  Status Tokenize(std::string_view word, std::vector<std::int32_t>* out) {
    word_ = word;
    SplitIntoSymbols(word, symbols_);
    const auto n_symbols = static_cast<std::int32_t>(symbols_.size());
    for (std::int32_t i = 1; i < n_symbols; ++i) TryAddBigram(i - 1, i);

    while (!queue_.empty()) {
      const Bigram bigram = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[bigram.left];
      Symbol& right = symbols_[bigram.right];
      // Symbols only grow, so an unchanged total size means both are as when queued.
      if (left.n == 0 || right.n == 0 || left.n + right.n != bigram.size) continue;
      left.n += right.n;
      right.n = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = bigram.left;
      TryAddBigram(left.prev, bigram.left);
      TryAddBigram(bigram.left, left.next);
    }

    for (std::int32_t i = n_symbols > 0 ? 0 : -1; i != -1; i = symbols_[i].next) {
      const Symbol& s = symbols_[i];
      const std::string_view piece = word_.substr(s.start, s.n);
      const std::int32_t id = vocab_.Find(piece);
      if (id != Vocab::kNoToken) {
        out->push_back(id);
      } else {
        TS_RETURN_IF_ERROR(AppendCharacters(piece, out));
      }
    }
    return Status::Ok();
  }

 private:
  // One token per character of `piece`, else UNK.
  Status AppendCharacters(std::string_view piece, std::vector<std::int32_t>* out) const {
    for (std::size_t i = 0; i < piece.size();) {
      const std::size_t len = std::min<std::size_t>(
          base::Utf8SequenceLength(static_cast<unsigned char>(piece[i])), piece.size() - i);
      const std::string_view character = piece.substr(i, len);
      std::int32_t id = vocab_.Find(character);
      // UNK stands in only when it is an ordinary unknown token: where it is a control token
      // (StarCoder's is <|endoftext|>), plain text would encode as an end of text.
      const std::int32_t unk = vocab_.unk_id();
      if (id == Vocab::kNoToken && unk != Vocab::kNoToken && !vocab_.HasAttr(unk, kAttrControl)) {
        id = unk;
      }
      if (id == Vocab::kNoToken) {
        std::string bytes;
        AppendBytesFromByteLevel(character, &bytes);
        std::string hex;
        for (unsigned char b : bytes) {
          static constexpr char kHex[] = "0123456789ABCDEF";
          hex += "0x";
          hex += kHex[b >> 4];
          hex += kHex[b & 15];
        }
        return Status(StatusCode::kNotFound,
                      "tokenizer: byte " + hex + " (byte-level \"" + std::string(character) +
                          "\") has no token and the vocabulary has no UNK token that is not a "
                          "control token");
      }
      out->push_back(id);
      i += len;
    }
    return Status::Ok();
  }

  void TryAddBigram(std::int32_t left, std::int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols_[left];
    const Symbol& r = symbols_[right];
    const std::int32_t rank =
        merges_.Rank(word_.substr(l.start, l.n), word_.substr(r.start, r.n));
    if (rank == BpeMerges::kNoRank) return;
    queue_.push({left, right, rank, l.n + r.n});
  }

  const Vocab& vocab_;
  const BpeMerges& merges_;
  std::string_view word_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramAfter> queue_;  // empty between words
};

std::string ComputePiece(const Vocab& vocab, std::int32_t id) {
  const TokenAttrs attrs = vocab.attrs(id);
  if (attrs & (kAttrControl | kAttrUnknown)) return "";
  if (attrs & kAttrUserDefined) return vocab.text(id);
  if (attrs & kAttrNormal) {
    std::string piece;
    AppendBytesFromByteLevel(vocab.text(id), &piece);
    return piece;
  }
  return "";  // unused, byte and undefined tokens
}

}  // namespace

BpeTokenizer::BpeTokenizer(Vocab vocab, PreTokenizer pre, BpeMerges merges)
    : Tokenizer(std::move(vocab)), pre_(std::move(pre)), merges_(std::move(merges)) {
  const Vocab& v = this->vocab();
  pieces_.reserve(static_cast<std::size_t>(v.size()));
  for (std::int32_t id = 0; id < v.size(); ++id) pieces_.push_back(ComputePiece(v, id));
}

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::Create(Vocab vocab,
                                                           const gguf::File& file) {
  constexpr std::string_view kKeyPre = gguf::keys::kTokenizerPre;
  std::string pre_name = "default";  // llama.cpp's choice (with a warning) when the key is absent
  if (file.Find(kKeyPre) != nullptr) {
    auto pre = file.GetString(kKeyPre);
    if (!pre.ok()) return pre.status().WithContext("tokenizer");
    pre_name = std::string(pre.value());
  }
  TS_ASSIGN_OR_RETURN(PreTokenizer pre, PreTokenizer::Create(pre_name));
  TS_ASSIGN_OR_RETURN(BpeMerges merges, BpeMerges::FromGguf(file));
  return std::unique_ptr<BpeTokenizer>(
      new BpeTokenizer(std::move(vocab), std::move(pre), std::move(merges)));
}

std::string BpeTokenizer::TokenToPiece(std::int32_t id) const {
  if (id < 0 || id >= static_cast<std::int32_t>(pieces_.size())) return "";
  return pieces_[static_cast<std::size_t>(id)];
}

Result<std::vector<std::int32_t>> BpeTokenizer::Encode(std::string_view text,
                                                       const EncodeOptions& opts) const {
  TS_RETURN_IF_ERROR(CheckInput(text));

  const Vocab& v = vocab();
  std::vector<std::int32_t> out;
  out.reserve(text.size() / 3 + 2);
  const bool add_special = opts.add_bos;
  if (add_special && v.add_bos()) out.push_back(v.bos_id());

  BpeSession session(v, merges_);
  std::vector<TextPiece> words;
  std::string mapped;
  for (const Fragment& f : PartitionSpecialTokens(v, text, opts.parse_special)) {
    if (f.is_token()) {
      out.push_back(f.token);
      continue;
    }
    const std::string_view fragment = text.substr(f.offset, f.length);
    TS_RETURN_IF_ERROR(pre_.Split(fragment, &words));
    for (const TextPiece& word : words) {
      mapped.clear();
      AppendByteLevel(fragment.substr(word.offset, word.length), &mapped);
      if (pre_.ignore_merges()) {
        if (const std::int32_t id = v.Find(mapped); id != Vocab::kNoToken) {
          out.push_back(id);
          continue;
        }
      }
      TS_RETURN_IF_ERROR(session.Tokenize(mapped, &out));
    }
  }
  if (add_special && v.add_eos()) out.push_back(v.eos_id());
  return out;
}

}  // namespace tessera::tokenizer
