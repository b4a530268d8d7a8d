#include "package/strict_json.h"

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "package/json_pointer.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

// A SAX handler (the interface of nlohmann::json::sax_parse) that builds nothing: it tracks the
// open containers to find the first duplicate name, the nesting depth and the syntax error.
// The parser's reason without its prefix and without the bytes it last read (which may be the
// very bytes that are not UTF-8): "syntax error while parsing value - invalid string: ill-formed
// UTF-8 byte; last read: ..." -> "invalid string: ill-formed UTF-8 byte".
std::string SyntaxReason(std::string_view what) {
  const std::size_t dash = what.find(" - ");
  if (dash == std::string_view::npos) return "";
  std::string_view reason = what.substr(dash + 3);
  reason = reason.substr(0, reason.find("; last read"));
  return std::string(reason);
}

class Checker {
 public:
  explicit Checker(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() { return Value(); }
  bool boolean(bool) { return Value(); }
  bool number_integer(Json::number_integer_t) { return Value(); }
  bool number_unsigned(Json::number_unsigned_t) { return Value(); }
  bool number_float(Json::number_float_t, const Json::string_t&) { return Value(); }
  bool string(Json::string_t&) { return Value(); }
  bool binary(Json::binary_t&) { return Value(); }
  bool start_object(std::size_t) { return Open(true); }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(false); }
  bool end_array() { return Close(); }
  bool key(Json::string_t& name) {
    Frame& top = frames_.back();
    if (!top.names.insert(name).second) {
      duplicate_ = PointerOfOpenFrames() + "/" + EscapePointerToken(name);
      return false;
    }
    top.last_name = name;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const Json::exception& e) {
    syntax_error_at_ = position;
    syntax_error_ = true;
    syntax_error_reason_ = SyntaxReason(e.what());
    return false;
  }

  bool syntax_error() const { return syntax_error_; }
  std::size_t syntax_error_at() const { return syntax_error_at_; }
  const std::string& syntax_error_reason() const { return syntax_error_reason_; }
  bool too_deep() const { return too_deep_; }
  const std::string& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool is_object = false;
    std::string token;  // this container's name or index in its parent ("" at the root)
    std::set<std::string> names;
    std::string last_name;
    std::size_t next_index = 0;
  };

  // The reference token of a value that starts now, inside the innermost open container.
  std::string NextToken() {
    if (frames_.empty()) return "";
    Frame& top = frames_.back();
    if (top.is_object) return EscapePointerToken(top.last_name);
    return std::to_string(top.next_index++);
  }
  bool Value() {
    NextToken();
    return true;
  }
  bool Open(bool is_object) {
    if (frames_.size() + 1 > max_depth_) {
      too_deep_ = true;
      return false;
    }
    Frame f;
    f.is_object = is_object;
    f.token = NextToken();
    frames_.push_back(std::move(f));
    return true;
  }
  bool Close() {
    frames_.pop_back();
    return true;
  }
  std::string PointerOfOpenFrames() const {
    std::string out;
    for (std::size_t k = 1; k < frames_.size(); ++k) out += "/" + frames_[k].token;
    return out;
  }

  std::size_t max_depth_;
  std::vector<Frame> frames_;
  bool syntax_error_ = false;
  std::size_t syntax_error_at_ = 0;
  std::string syntax_error_reason_;
  bool too_deep_ = false;
  std::string duplicate_;
};

}  // namespace

Result<Json> ParseStrictJson(std::string_view text, std::string_view what,
                             const StrictJsonLimits& limits) {
  const std::string prefix(what);
  if (text.size() > limits.max_bytes) {
    return Status(StatusCode::kResourceExhausted, prefix + ": is " + std::to_string(text.size()) +
                                                      " bytes, more than the limit " +
                                                      std::to_string(limits.max_bytes));
  }
  Checker checker(limits.max_depth);
  if (!Json::sax_parse(text.begin(), text.end(), &checker)) {
    if (checker.too_deep()) {
      return Status(
          StatusCode::kResourceExhausted,
          prefix + ": JSON nests deeper than " + std::to_string(limits.max_depth) + " levels");
    }
    if (!checker.duplicate().empty()) {
      return Status(StatusCode::kDuplicate, prefix + ": member " +
                                                RenderPointer(checker.duplicate()) +
                                                " occurs twice in its object");
    }
    const std::string& reason = checker.syntax_error_reason();
    return Malformed(prefix + ": not valid JSON (syntax error at byte " +
                     std::to_string(checker.syntax_error_at()) +
                     (reason.empty() ? "" : ": " + reason) + ")");
  }
  Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Malformed(prefix + ": not valid JSON");
  return value;
}

}  // namespace tessera::package
