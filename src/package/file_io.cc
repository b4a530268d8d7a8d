#include "package/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tessera::package {
namespace {

std::string DirectoryOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status ErrnoStatus(std::string_view op, std::string_view path, int err) {
  std::string message =
      "package: " + std::string(op) + " " + std::string(path) + ": " + std::strerror(err);
  return Status(err == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError, std::move(message));
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status UniqueFd::Close(std::string_view path) {
  if (fd_ < 0) return Status::Ok();
  int rc = ::close(std::exchange(fd_, -1));
  if (rc != 0) return ErrnoStatus("close", path, errno);
  return Status::Ok();
}

Result<OpenedFile> OpenRegularFile(const std::string& path) {
  OpenedFile file;
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below); it has no
  // effect on reads from regular files.
  file.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!file.fd.valid()) return ErrnoStatus("open", path, errno);
  struct stat st {};
  if (::fstat(file.fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status(StatusCode::kIoError, "package: " + path + " is not a regular file");
  }
  file.size = static_cast<std::uint64_t>(st.st_size);
  return file;
}

Status WriteAll(int fd, std::span<const std::uint8_t> bytes, std::string_view path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status ReadExactAt(int fd, std::span<std::uint8_t> bytes, std::uint64_t offset,
                   std::string_view path) {
  const std::uint64_t start = offset;
  while (!bytes.empty()) {
    ssize_t n = ::pread(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (n == 0) {
      return Truncated("package: " + std::string(path) + " ends at byte " + std::to_string(offset) +
                       ", inside " + std::to_string(bytes.size()) + " bytes expected from byte " +
                       std::to_string(start));
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return Status::Ok();
}

Result<std::size_t> ReadFull(int fd, std::span<std::uint8_t> bytes, std::string_view path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Result<std::vector<std::uint8_t>> ReadSmallFile(const std::string& path, std::uint64_t limit) {
  TS_ASSIGN_OR_RETURN(OpenedFile file, OpenRegularFile(path));
  if (file.size > limit) {
    return Status(StatusCode::kResourceExhausted, "package: " + path + " is " +
                                                      std::to_string(file.size) + " bytes, limit " +
                                                      std::to_string(limit));
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(file.size));
  TS_RETURN_IF_ERROR(ReadExactAt(file.fd.get(), bytes, 0, path));
  return bytes;
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", path, errno);
  return Status::Ok();
}

Result<AtomicFile> AtomicFile::Create(const std::string& path, mode_t mode) {
  AtomicFile file;
  file.path_ = path;
  file.temp_path_ = path + ".tmp-XXXXXX";
  file.fd_ = UniqueFd(::mkostemp(file.temp_path_.data(), O_CLOEXEC));
  if (!file.fd_.valid()) return ErrnoStatus("create", file.temp_path_, errno);
  file.open_ = true;
  if (::fchmod(file.fd_.get(), mode) != 0) return ErrnoStatus("chmod", file.temp_path_, errno);
  return file;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::move(other.fd_)),
      open_(std::exchange(other.open_, false)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    Abandon();
    path_ = std::move(other.path_);
    temp_path_ = std::move(other.temp_path_);
    fd_ = std::move(other.fd_);
    open_ = std::exchange(other.open_, false);
  }
  return *this;
}

Status AtomicFile::Write(std::span<const std::uint8_t> bytes) {
  if (!open_) return Status(StatusCode::kFailedPrecondition, "package: " + path_ + " is closed");
  Status status = WriteAll(fd_.get(), bytes, temp_path_);
  if (!status.ok()) Abandon();
  return status;
}

Status AtomicFile::Commit(bool durable) {
  if (!open_) return Status(StatusCode::kFailedPrecondition, "package: " + path_ + " is closed");
  Status status;
  if (durable && ::fsync(fd_.get()) != 0) status = ErrnoStatus("fsync", temp_path_, errno);
  if (status.ok()) status = fd_.Close(temp_path_);
  if (status.ok() && ::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    status = ErrnoStatus("rename", path_, errno);
  }
  if (!status.ok()) {
    Abandon();
    return status;
  }
  open_ = false;
  if (!durable) return Status::Ok();
  // Make the rename durable; a failure here leaves a complete file, so it is not an error.
  UniqueFd dir(::open(DirectoryOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  return Status::Ok();
}

void AtomicFile::Abandon() {
  if (!open_) return;
  fd_.Reset();
  ::unlink(temp_path_.c_str());
  open_ = false;
}

}  // namespace tessera::package
