#include "base/file_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace tessera::base {

Status FileErrno(std::string_view op, std::string_view path, int err) {
  std::string message =
      "file: " + std::string(op) + " " + std::string(path) + ": " + std::strerror(err);
  StatusCode code = StatusCode::kIoError;
  if (err == ENOENT) code = StatusCode::kNotFound;
  if (err == EEXIST) code = StatusCode::kDuplicate;
  return Status(code, std::move(message));
}

Result<int> FileEnv::CreateExclusive(const std::string& path, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return FileErrno("create", path, errno);
  return fd;
}

Result<int> FileEnv::OpenOrCreate(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return FileErrno("open", path, errno);
  return fd;
}

Status FileEnv::Write(int fd, std::span<const std::uint8_t> bytes, std::string_view path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileErrno("write", path, errno);
    if (n == 0) return FileErrno("write", path, EIO);
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return Status();
}

Status FileEnv::Sync(int fd, std::string_view path) {
  if (::fsync(fd) != 0) return FileErrno("fsync", path, errno);
  return Status();
}

Status FileEnv::Close(int fd, std::string_view path) {
  if (::close(fd) != 0 && errno != EINTR) return FileErrno("close", path, errno);
  return Status();
}

Status FileEnv::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return FileErrno("rename", from + " to " + to, errno);
  return Status();
}

Status FileEnv::Remove(const std::string& path) {
  if (::remove(path.c_str()) != 0 && errno != ENOENT) return FileErrno("remove", path, errno);
  return Status();
}

Status FileEnv::MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) return Status();
  int err = errno;
  struct stat st;
  if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status();
  return FileErrno("mkdir", path, err);
}

Status FileEnv::SyncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FileErrno("open directory", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return FileErrno("fsync directory", path, err);
  return Status();
}

Status FileEnv::SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileErrno("open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return FileErrno("fsync", path, err);
  return Status();
}

FileEnv& DefaultFileEnv() {
  static FileEnv env;
  return env;
}

Status RemoveTree(FileEnv& env, const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status();
    return FileErrno("stat", path, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return FileErrno("open directory", path, errno);
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    for (const std::string& name : names) TS_RETURN_IF_ERROR(RemoveTree(env, path + "/" + name));
  }
  return env.Remove(path);
}

std::string DirName(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace tessera::base
