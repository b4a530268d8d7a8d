#include "tessera/status.h"

namespace tessera {

StatusGroup GroupOf(StatusCode code) {
  switch (static_cast<int>(code) / 100) {
    case 0: return StatusGroup::kOk;
    case 1: return StatusGroup::kInput;
    case 2: return StatusGroup::kAdmission;
    case 3: return StatusGroup::kResource;
    case 4: return StatusGroup::kExecution;
    default: return StatusGroup::kPolicy;
  }
}

std::string_view CodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kMalformed: return "malformed";
    case StatusCode::kTruncated: return "truncated";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kOutOfRange: return "out_of_range";
    case StatusCode::kDuplicate: return "duplicate";
    case StatusCode::kTypeMismatch: return "type_mismatch";
    case StatusCode::kInvalidUtf8: return "invalid_utf8";
    case StatusCode::kMissingTensor: return "missing_tensor";
    case StatusCode::kShapeMismatch: return "shape_mismatch";
    case StatusCode::kIncompatible: return "incompatible";
    case StatusCode::kIntegrity: return "integrity";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kIoError: return "io_error";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kDeadlineExceeded: return "deadline_exceeded";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kPermissionDenied: return "permission_denied";
  }
  return "unknown";
}

std::string_view GroupName(StatusGroup group) {
  switch (group) {
    case StatusGroup::kOk: return "ok";
    case StatusGroup::kInput: return "input";
    case StatusGroup::kAdmission: return "admission";
    case StatusGroup::kResource: return "resource";
    case StatusGroup::kExecution: return "execution";
    case StatusGroup::kPolicy: return "policy";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  message += ": ";
  message += message_;
  return Status(code_, std::move(message));
}

Status InvalidArgument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
Status NotFound(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
Status Malformed(std::string m) { return Status(StatusCode::kMalformed, std::move(m)); }
Status Truncated(std::string m) { return Status(StatusCode::kTruncated, std::move(m)); }
Status Unsupported(std::string m) { return Status(StatusCode::kUnsupported, std::move(m)); }
Status OutOfRange(std::string m) { return Status(StatusCode::kOutOfRange, std::move(m)); }
Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

}  // namespace tessera
