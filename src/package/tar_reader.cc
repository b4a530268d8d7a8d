#include "package/tar_reader.h"

#include <algorithm>

namespace tessera::package {
namespace {

constexpr std::size_t kBufferBytes = 64 << 10;

Status EntryStatus(StatusCode code, const TarEntry& entry, const std::string& problem) {
  return Status(code, "tar: entry " + QuoteTarName(entry.name) + " (header at byte " +
                          std::to_string(entry.header_offset) + "): " + problem);
}

}  // namespace

Result<TarReader> TarReader::Open(const std::string& path, const TarLimits& limits) {
  TS_ASSIGN_OR_RETURN(OpenedFile file, OpenRegularFile(path));
  TarReader reader;
  reader.path_ = path;
  reader.fd_ = std::move(file.fd);
  reader.file_size_ = file.size;
  reader.limits_ = limits;
  reader.buffer_.resize(kBufferBytes);
  return reader;
}

Status TarReader::Fail(Status status) {
  if (failed_.ok()) failed_ = status;
  return failed_;
}

Result<std::optional<TarEntry>> TarReader::Next() {
  if (!failed_.ok()) return failed_;
  if (done_) return std::optional<TarEntry>();
  Result<std::optional<TarEntry>> next = NextImpl();
  if (!next.ok()) return Fail(next.status());
  return next;
}

Status TarReader::SkipRestOfEntry() {
  offset_ += remaining_;  // checked against the file size when the header was read
  remaining_ = 0;
  if (padding_ == 0) return Status::Ok();
  std::span<std::uint8_t> pad(buffer_.data(), static_cast<std::size_t>(padding_));
  TS_RETURN_IF_ERROR(ReadExactAt(fd_.get(), pad, offset_, path_));
  if (!IsZeroBlock(pad)) {
    return Malformed("tar: entry " + QuoteTarName(current_) + ": non-zero padding at byte " +
                     std::to_string(offset_) + " after its data");
  }
  offset_ += padding_;
  padding_ = 0;
  return Status::Ok();
}

Status TarReader::CheckEndMarker(std::uint64_t first_zero_block) {
  if (file_size_ - offset_ < kTarBlockSize) {
    return Truncated("tar: " + path_ + " ends after a lone zero block at byte " +
                     std::to_string(first_zero_block) +
                     " (the end-of-archive marker is two zero blocks)");
  }
  TarBlock second;
  TS_RETURN_IF_ERROR(ReadExactAt(fd_.get(), second, offset_, path_));
  if (!IsZeroBlock(second)) {
    return Malformed("tar: " + path_ + ": the zero block at byte " +
                     std::to_string(first_zero_block) + " is followed by a non-zero block");
  }
  offset_ += kTarBlockSize;
  // Only zero bytes (record padding) may follow the end marker.
  while (offset_ < file_size_) {
    std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), file_size_ - offset_));
    std::span<std::uint8_t> chunk(buffer_.data(), n);
    TS_RETURN_IF_ERROR(ReadExactAt(fd_.get(), chunk, offset_, path_));
    auto bad = std::find_if(chunk.begin(), chunk.end(), [](std::uint8_t b) { return b != 0; });
    if (bad != chunk.end()) {
      return Malformed("tar: " + path_ + ": data after the end-of-archive marker at byte " +
                       std::to_string(offset_ + static_cast<std::uint64_t>(bad - chunk.begin())));
    }
    offset_ += n;
  }
  return Status::Ok();
}

Result<std::optional<TarEntry>> TarReader::NextImpl() {
  TS_RETURN_IF_ERROR(SkipRestOfEntry());
  while (true) {
    const std::uint64_t header_at = offset_;
    if (file_size_ - offset_ < kTarBlockSize) {
      return Truncated("tar: " + path_ + " ends at byte " + std::to_string(file_size_) +
                       (offset_ == file_size_
                            ? " without the end-of-archive marker"
                            : " inside the header at byte " + std::to_string(header_at)));
    }
    TarBlock block;
    TS_RETURN_IF_ERROR(ReadExactAt(fd_.get(), block, offset_, path_));
    offset_ += kTarBlockSize;
    if (IsZeroBlock(block)) {
      TS_RETURN_IF_ERROR(CheckEndMarker(header_at));
      done_ = true;
      return std::optional<TarEntry>();
    }
    if (++entries_ > limits_.max_entries) {
      return Status(StatusCode::kResourceExhausted,
                    "tar: " + path_ + " has more than " + std::to_string(limits_.max_entries) +
                        " entries (header at byte " + std::to_string(header_at) + ")");
    }
    TS_ASSIGN_OR_RETURN(TarEntry entry, DecodeTarHeader(block, header_at));
    const std::uint64_t pad = (kTarBlockSize - entry.size % kTarBlockSize) % kTarBlockSize;
    const std::uint64_t left = file_size_ - offset_;
    if (entry.size > left || entry.size + pad > left) {
      return EntryStatus(StatusCode::kTruncated, entry,
                         "declares " + std::to_string(entry.size) + " data bytes (" +
                             std::to_string(entry.size + pad) + " with padding) but only " +
                             std::to_string(left) + " bytes remain in the file");
    }
    if (entry.size > limits_.max_entry_bytes) {
      return EntryStatus(StatusCode::kResourceExhausted, entry,
                         "is " + std::to_string(entry.size) + " bytes, limit " +
                             std::to_string(limits_.max_entry_bytes));
    }
    if (entry.size > limits_.max_total_bytes - std::min(total_bytes_, limits_.max_total_bytes)) {
      return EntryStatus(StatusCode::kResourceExhausted, entry,
                         "brings the archive's data to " +
                             std::to_string(total_bytes_ + entry.size) + " bytes, limit " +
                             std::to_string(limits_.max_total_bytes));
    }
    Status added = names_.Add(entry.name, entry.type);
    if (!added.ok()) return EntryStatus(added.code(), entry, added.message());
    total_bytes_ += entry.size;
    remaining_ = entry.size;
    padding_ = pad;
    current_ = entry.name;
    if (entry.name.empty()) continue;  // the archive root ("./"), a directory without data
    return std::optional<TarEntry>(std::move(entry));
  }
}

Result<std::size_t> TarReader::Read(std::span<std::uint8_t> out) {
  if (!failed_.ok()) return failed_;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), remaining_));
  if (n == 0) return std::size_t{0};
  Status read = ReadExactAt(fd_.get(), out.first(n), offset_, path_);
  if (!read.ok()) return Fail(read.WithContext("tar: entry " + QuoteTarName(current_)));
  offset_ += n;
  remaining_ -= n;
  return n;
}

Status TarReader::ReadAll(const std::function<Status(std::span<const std::uint8_t>)>& sink) {
  if (!failed_.ok()) return failed_;
  while (remaining_ > 0) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), remaining_));
    TS_ASSIGN_OR_RETURN(std::size_t got, Read(std::span<std::uint8_t>(buffer_.data(), n)));
    Status consumed = sink(std::span<const std::uint8_t>(buffer_.data(), got));
    if (!consumed.ok()) return Fail(consumed);
  }
  return Status::Ok();
}

}  // namespace tessera::package
