#include "package/tar_writer.h"

#include <algorithm>

namespace tessera::package {
namespace {

constexpr std::size_t kCopyBufferBytes = 256 << 10;
constexpr std::uint8_t kZeros[kTarBlockSize] = {};

}  // namespace

Result<TarWriter> TarWriter::Create(const std::string& output_path, base::FileEnv& env) {
  TarWriter writer;
  TS_ASSIGN_OR_RETURN(writer.out_, base::AtomicFile::Create(env, output_path));
  return writer;
}

Status TarWriter::Fail(Status status) {
  failed_ = status;
  out_.Abandon();
  return status;
}

Status TarWriter::BeginEntry(std::string_view name, TarEntryType type, std::uint64_t size) {
  if (!failed_.ok()) return failed_;
  if (finished_) {
    return Status(StatusCode::kFailedPrecondition, "tar: " + out_.path() + " is already finished");
  }
  const bool dir = type == TarEntryType::kDirectory;
  Result<std::string> normalized = NormalizeTarName(name, dir);
  if (!normalized.ok()) return Fail(normalized.status());
  if (normalized->empty()) {
    return Fail(InvalidArgument("tar: directory " + QuoteTarName(name) +
                                " names the archive root, which is not written"));
  }
  Result<TarBlock> header = EncodeTarHeader(*normalized, type, size);
  if (!header.ok()) return Fail(header.status());
  Status added = names_.Add(*normalized, type);
  if (!added.ok()) return Fail(added.WithContext("tar: entry " + QuoteTarName(name)));
  Status written = out_.Write(*header);
  if (!written.ok()) return Fail(written);
  return Status::Ok();
}

Status TarWriter::WritePadding(std::uint64_t size) {
  const std::size_t pad =
      static_cast<std::size_t>((kTarBlockSize - size % kTarBlockSize) % kTarBlockSize);
  Status written = out_.Write(std::span<const std::uint8_t>(kZeros, pad));
  if (!written.ok()) return Fail(written);
  return Status::Ok();
}

Status TarWriter::AddDirectory(std::string_view name) {
  return BeginEntry(name, TarEntryType::kDirectory, 0);
}

Status TarWriter::AddFile(std::string_view name, std::span<const std::uint8_t> bytes) {
  TS_RETURN_IF_ERROR(BeginEntry(name, TarEntryType::kFile, bytes.size()));
  Status written = out_.Write(bytes);
  if (!written.ok()) return Fail(written);
  return WritePadding(bytes.size());
}

Result<CopiedFile> TarWriter::AddFileFromPath(std::string_view name,
                                              const std::string& source_path) {
  if (!failed_.ok()) return failed_;
  Result<OpenedFile> source = OpenRegularFile(source_path);
  if (!source.ok()) return Fail(source.status());
  const std::uint64_t size = source->size;
  TS_RETURN_IF_ERROR(BeginEntry(name, TarEntryType::kFile, size));
  buffer_.resize(kCopyBufferBytes);
  base::Sha256Hasher hasher;
  std::uint64_t copied = 0;
  while (true) {
    Result<std::size_t> n = ReadFull(source->fd.get(), buffer_, source_path);
    if (!n.ok()) return Fail(n.status());
    if (*n == 0) break;
    if (copied + *n > size) {
      return Fail(Status(StatusCode::kIoError, "tar: " + source_path + " grew past " +
                                                   std::to_string(size) +
                                                   " bytes while it was being archived"));
    }
    std::span<const std::uint8_t> chunk(buffer_.data(), *n);
    hasher.Update(chunk);
    Status written = out_.Write(chunk);
    if (!written.ok()) return Fail(written);
    copied += *n;
  }
  if (copied != size) {
    return Fail(Status(StatusCode::kIoError,
                       "tar: " + source_path + " shrank from " + std::to_string(size) + " to " +
                           std::to_string(copied) + " bytes while it was being archived"));
  }
  TS_RETURN_IF_ERROR(WritePadding(size));
  return CopiedFile{hasher.Finish(), size};
}

Status TarWriter::Finish() {
  if (!failed_.ok()) return failed_;
  if (finished_) {
    return Status(StatusCode::kFailedPrecondition, "tar: " + out_.path() + " is already finished");
  }
  for (int i = 0; i < 2; ++i) {
    Status written = out_.Write(std::span<const std::uint8_t>(kZeros, kTarBlockSize));
    if (!written.ok()) return Fail(written);
  }
  Status committed = out_.Commit();
  if (!committed.ok()) return Fail(committed);
  finished_ = true;
  return Status::Ok();
}

}  // namespace tessera::package
