#include "base/atomic_file.h"

#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <utility>

namespace tessera::base {
namespace {

// 16 lowercase hex digits: random, or (before the kernel has entropy) the clock, the pid and a
// counter; CreateExclusive refuses the improbable clash either way.
std::string TempSuffix() {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t bits = 0;
  if (::getrandom(&bits, sizeof bits, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bits)) {
    bits = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    bits ^= static_cast<std::uint64_t>(::getpid()) << 40;
    bits += counter.fetch_add(1, std::memory_order_relaxed);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (char& c : out) {
    c = kHex[bits & 15];
    bits >>= 4;
  }
  return out;
}

}  // namespace

Result<AtomicFile> AtomicFile::Create(FileEnv& env, std::string path, AtomicWriteOptions options) {
  AtomicFile file;
  file.env_ = &env;
  file.path_ = std::move(path);
  file.options_ = std::move(options);
  if (file.options_.temp_path.empty()) {
    file.temp_path_ = file.path_ + ".tmp-" + TempSuffix();
  } else {
    file.temp_path_ = file.options_.temp_path;
    TS_RETURN_IF_ERROR(env.Remove(file.temp_path_));  // left by a crashed writer
  }
  Result<int> fd = env.CreateExclusive(file.temp_path_, file.options_.mode);
  if (!fd.ok()) {
    // A missing folder is an I/O error of the write: kNotFound would say the target is missing.
    if (fd.status().code() != StatusCode::kNotFound) return fd.status();
    return Status(StatusCode::kIoError, fd.status().message());
  }
  file.fd_ = *fd;
  return file;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : env_(other.env_),
      path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      options_(std::move(other.options_)),
      fd_(std::exchange(other.fd_, -1)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    Abandon();
    env_ = other.env_;
    path_ = std::move(other.path_);
    temp_path_ = std::move(other.temp_path_);
    options_ = std::move(other.options_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Status AtomicFile::Write(std::span<const std::uint8_t> bytes) {
  if (fd_ < 0) return Status(StatusCode::kFailedPrecondition, "file: " + path_ + " is closed");
  Status status = env_->Write(fd_, bytes, temp_path_);
  if (!status.ok()) Abandon();
  return status;
}

Status AtomicFile::Write(std::string_view text) {
  return Write(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Status AtomicFile::Commit() {
  if (fd_ < 0) return Status(StatusCode::kFailedPrecondition, "file: " + path_ + " is closed");
  Status status = options_.sync_file ? env_->Sync(fd_, temp_path_) : Status();
  // Close even after a failed fsync: the descriptor must not leak.
  Status closed = env_->Close(std::exchange(fd_, -1), temp_path_);
  if (status.ok()) status = closed;
  if (status.ok()) status = env_->Rename(temp_path_, path_);
  if (!status.ok()) {
    (void)env_->Remove(temp_path_);
    return status;
  }
  if (!options_.sync_dir) return Status();
  Status synced = env_->SyncDir(DirName(path_));
  if (!synced.ok()) {
    return synced.WithContext("file: " + path_ + " is in place but may not survive a power loss");
  }
  return Status();
}

void AtomicFile::Abandon() {
  if (fd_ < 0) return;
  (void)env_->Close(std::exchange(fd_, -1), temp_path_);
  (void)env_->Remove(temp_path_);
}

Status WriteFileAtomic(FileEnv& env, const std::string& path, std::span<const std::uint8_t> bytes,
                       AtomicWriteOptions options) {
  TS_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(env, path, std::move(options)));
  TS_RETURN_IF_ERROR(file.Write(bytes));
  return file.Commit();
}

Status WriteFileAtomic(FileEnv& env, const std::string& path, std::string_view text,
                       AtomicWriteOptions options) {
  return WriteFileAtomic(env, path,
                         std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                         std::move(options));
}

}  // namespace tessera::base
