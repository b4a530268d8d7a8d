#include "tokenizer/tokenizer.h"

#include <string>
#include <utility>

#include "base/utf8.h"
#include "gguf/keys.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/spm_tokenizer.h"

namespace tessera::tokenizer {

Tokenizer::~Tokenizer() = default;

Status Tokenizer::CheckInput(std::string_view text) {
  if (text.size() > kMaxInputBytes) {
    return Status(StatusCode::kOutOfRange, "tokenizer: input of " + std::to_string(text.size()) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(kMaxInputBytes));
  }
  if (Status s = base::ValidateUtf8(text); !s.ok()) return s.WithContext("tokenizer");
  return Status::Ok();
}

Result<std::string> Tokenizer::Decode(std::span<const std::int32_t> ids) const {
  std::string out;
  bool remove_space = vocab_.add_space_prefix();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::int32_t id = ids[i];
    if (!vocab_.Contains(id)) {
      return Status(StatusCode::kOutOfRange,
                    "tokenizer: token id " + std::to_string(id) + " at position " +
                        std::to_string(i) + " is outside the vocabulary of " +
                        std::to_string(vocab_.size()) + " tokens");
    }
    const std::string piece = TokenToPiece(id);
    const std::size_t skip = (remove_space && !piece.empty() && piece[0] == ' ') ? 1 : 0;
    out.append(piece, skip);
    remove_space = false;
  }
  return out;
}

Result<std::unique_ptr<Tokenizer>> CreateTokenizer(const gguf::File& file) {
  constexpr std::string_view kKeyModel = gguf::keys::kTokenizerModel;
  if (file.Find(kKeyModel) == nullptr) {
    return Status(StatusCode::kNotFound, "tokenizer: key " + std::string(kKeyModel) + " not found");
  }
  auto model = file.GetString(kKeyModel);
  if (!model.ok()) return model.status().WithContext("tokenizer");
  const std::string_view name = model.value();
  if (name != "llama" && name != "gpt2") {
    return Status(StatusCode::kUnsupported,
                  "tokenizer: " + std::string(kKeyModel) + " \"" + std::string(name) +
                      "\" is not supported (supported: \"llama\", \"gpt2\")");
  }
  const bool is_bpe = name == "gpt2";
  TS_ASSIGN_OR_RETURN(Vocab vocab, Vocab::FromGguf(file));
  if (is_bpe) {
    TS_ASSIGN_OR_RETURN(std::unique_ptr<BpeTokenizer> bpe,
                        BpeTokenizer::Create(std::move(vocab), file));
    return std::unique_ptr<Tokenizer>(std::move(bpe));
  }
  return std::unique_ptr<Tokenizer>(new SpmTokenizer(std::move(vocab)));
}

}  // namespace tessera::tokenizer
