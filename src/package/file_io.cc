#include "package/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/file_env.h"

namespace tessera::package {

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
  if (rc != 0) return base::FileErrno("close", path, errno);
  return Status::Ok();
}

Result<OpenedFile> OpenRegularFile(const std::string& path) {
  OpenedFile file;
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below); it has no
  // effect on reads from regular files.
  file.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!file.fd.valid()) return base::FileErrno("open", path, errno);
  struct stat st {};
  if (::fstat(file.fd.get(), &st) != 0) return base::FileErrno("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status(StatusCode::kIoError, "package: " + path + " is not a regular file");
  }
  file.size = static_cast<std::uint64_t>(st.st_size);
  return file;
}

Status ReadExactAt(int fd, std::span<std::uint8_t> bytes, std::uint64_t offset,
                   std::string_view path) {
  const std::uint64_t start = offset;
  while (!bytes.empty()) {
    ssize_t n = ::pread(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return base::FileErrno("read", path, errno);
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
      return base::FileErrno("read", path, errno);
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

}  // namespace tessera::package
