// Status and Result<T>: the error model of every Tessera layer.
//
// Our code does not throw. Every function that can fail on input from outside (files, GGUF bytes,
// flags, prompts, manifests) returns a Status or a Result<T>. Callers branch on code(), never on
// message(). Messages name the layer, the offending value and the limit, e.g.
//   gguf: tensor "blk.3.ffn_up.weight" ends at 4194304, past file size 3145728
//
// Codes are stable: their numbers are part of the API (they appear in JSON output and exit
// statuses) and are grouped by the hundreds digit:
//   1xx input       the request or the bytes are wrong
//   2xx admission   well-formed, but cannot be admitted (incompatible, missing parts, integrity)
//   3xx resource    memory, disk or file-system limits and failures
//   4xx execution   a failure while running (cancelled, deadline, internal)
//   5xx policy      refused by a trust or authority policy
//
// Thread safety: Status and Result are values; distinct objects may be used from distinct threads.
// Cost: an OK Status holds no allocation; an error holds one std::string.
#ifndef TESSERA_STATUS_H_
#define TESSERA_STATUS_H_

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tessera {

enum class StatusCode : std::uint16_t {
  kOk = 0,
  // Input.
  kInvalidArgument = 100,  // a flag, option or API argument is out of its domain
  kNotFound = 101,         // a named file, key, tensor or token does not exist
  kMalformed = 102,        // bytes violate their format (bad magic, bad value, overlap, ...)
  kTruncated = 103,        // bytes end before the format says they should
  kUnsupported = 104,      // well-formed but not supported (version, tensor type, architecture)
  kOutOfRange = 105,       // a value exceeds a limit (prompt longer than the context, ...)
  kDuplicate = 106,        // a key or name occurs twice where it must be unique
  kTypeMismatch = 107,     // a known key holds a value of the wrong type
  kInvalidUtf8 = 108,      // text that must be UTF-8 is not
  // Admission.
  kMissingTensor = 200,    // a tensor the architecture needs is absent
  kShapeMismatch = 201,    // a tensor has the wrong shape or type for the architecture
  kIncompatible = 202,     // parts do not fit together (vocab size, base model, runtime version)
  kIntegrity = 203,        // bytes do not match their declared hash or size
  // Resource.
  kResourceExhausted = 300,  // a memory or size budget would be exceeded
  kIoError = 301,            // the operating system refused a file operation
  // Execution.
  kInternal = 400,          // a bug or an impossible state that was caught without aborting
  kCancelled = 401,         // the caller cancelled the operation
  kDeadlineExceeded = 402,  // the operation ran past its deadline
  kUnavailable = 403,       // temporarily unavailable; retrying later may succeed
  kFailedPrecondition = 404,  // the object is in the wrong state for the call
  // Policy.
  kPermissionDenied = 500,  // a trust or authority policy refuses the operation
};

enum class StatusGroup : std::uint8_t { kOk, kInput, kAdmission, kResource, kExecution, kPolicy };

// The group a code belongs to (its hundreds digit).
StatusGroup GroupOf(StatusCode code);
// Stable lowercase names: "invalid_argument", "malformed", ...; "input", "admission", ...
std::string_view CodeName(StatusCode code);
std::string_view GroupName(StatusGroup group);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  StatusGroup group() const { return GroupOf(code_); }
  const std::string& message() const { return message_; }

  // "malformed: gguf: ..." ; "ok" for OK.
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>" (the code is kept).
  Status WithContext(std::string_view context) const;

  // Explicitly discards an error that the caller has decided not to handle.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Shorthand constructors.
Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status Malformed(std::string message);
Status Truncated(std::string message);
Status Unsupported(std::string message);
Status OutOfRange(std::string message);
Status Internal(std::string message);

// Result<T>: either a value or a non-OK Status. Move-only when T is.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result built from an OK Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Accessors abort on an error Result: that is a programming bug, not bad input.
  T& value() & { CheckOk(); return *value_; }
  const T& value() const& { CheckOk(); return *value_; }
  T&& value() && { CheckOk(); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void CheckOk() const {
    if (!value_.has_value()) std::abort();
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace tessera

#define TS_CONCAT_INNER_(a, b) a##b
#define TS_CONCAT_(a, b) TS_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function if it is an error.
#define TS_RETURN_IF_ERROR(expr)                      \
  do {                                                \
    ::tessera::Status ts_status_ = (expr);            \
    if (!ts_status_.ok()) return ts_status_;          \
  } while (0)

// TS_ASSIGN_OR_RETURN(auto x, MakeX()); declares x from a Result or returns its Status.
#define TS_ASSIGN_OR_RETURN(lhs, expr) \
  TS_ASSIGN_OR_RETURN_IMPL_(TS_CONCAT_(ts_result_, __LINE__), lhs, expr)
#define TS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // TESSERA_STATUS_H_
