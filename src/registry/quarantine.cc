// The quarantine: every refused package file gets an index record (the step, the code, the
// message) and, when it fits the bounds, a copy under <home>/quarantine/ for inspection. The
// bounds (QuarantineBounds, records.h) keep a stream of hostile files from filling the disk:
// adding a record first prunes the oldest records with their copies, a file larger than the
// byte bound is recorded without a copy (and without being read), and a file that grows past the
// bound while it is copied loses its copy. docs/formats/quarantine.md is the user's reference.
//
// Crash safety as for packages (ADR 0013): a copy is written under a temporary name and renamed
// before its record is committed; a record is deleted before its copy. A crash leaves at worst
// an unrecorded file, which Doctor() reports and removes.
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include "base/sha256.h"
#include "package/file_io.h"
#include "registry/registry.h"

namespace tessera::registry {
namespace {

constexpr char kMaxBytesSetting[] = "quarantine.max_bytes";
constexpr char kMaxRecordsSetting[] = "quarantine.max_records";
constexpr std::size_t kQuarantineChunk = 1 << 20;

// A stored bound, or `fallback` when unset or unreadable (the bounds only protect the disk: a
// damaged setting must not stop installs).
std::uint64_t StoredBound(const std::optional<std::string>& text, std::uint64_t fallback) {
  if (!text.has_value()) return fallback;
  std::uint64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  return ec == std::errc() && ptr == end ? value : fallback;
}

// The size of a record's copy; 0 when it keeps none or the copy is gone.
std::uint64_t CopyBytes(const std::string& home, const QuarantineRecord& q) {
  if (q.path.empty()) return 0;
  struct stat st {};
  if (::stat((home + "/" + q.path).c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

// What CopyBounded did: the sha256 of the whole file ("" when it could not be read to its end,
// or grew past the limit), and whether the copy at `temp` is complete (else it was removed).
struct BoundedCopy {
  std::string sha256;
  Status copied;
};

// Copies the open file `in` to `temp` through `env`, hashing it. The file is read to its end
// even when writing the copy fails, so that the record still names the bytes refused; more than
// `limit` bytes (the file grew since it was opened) stops both.
BoundedCopy CopyBounded(base::FileEnv& env, int in, const std::string& source,
                        const std::string& temp, std::uint64_t limit) {
  BoundedCopy result;
  Result<int> out = env.CreateExclusive(temp, base::kFileMode);
  result.copied = out.status();
  base::Sha256Hasher hasher;
  std::vector<std::uint8_t> buffer(kQuarantineChunk);
  std::uint64_t read = 0;
  bool whole = false;
  while (true) {
    Result<std::size_t> n = package::ReadFull(in, buffer, source);
    if (!n.ok()) {
      if (result.copied.ok()) result.copied = n.status();
      break;
    }
    if (*n == 0) {
      whole = true;
      break;
    }
    read += *n;
    if (read > limit) {
      result.copied = Status(StatusCode::kResourceExhausted,
                             "the file grew past the quarantine's bound of " +
                                 std::to_string(limit) + " bytes while it was copied");
      break;
    }
    std::span<const std::uint8_t> chunk(buffer.data(), *n);
    hasher.Update(chunk);
    if (result.copied.ok()) result.copied = env.Write(*out, chunk, temp);
  }
  if (whole) result.sha256 = base::ToHex(hasher.Finish());
  if (out.ok()) {
    if (result.copied.ok()) result.copied = env.Sync(*out, temp);
    Status closed = env.Close(*out, temp);
    if (result.copied.ok()) result.copied = closed;
  }
  if (!result.copied.ok()) (void)env.Remove(temp);
  return result;
}

}  // namespace

Result<QuarantineBounds> Registry::QuarantineLimits() {
  QuarantineBounds bounds;
  TS_ASSIGN_OR_RETURN(std::optional<std::string> bytes, index_->GetSetting(kMaxBytesSetting));
  TS_ASSIGN_OR_RETURN(std::optional<std::string> records, index_->GetSetting(kMaxRecordsSetting));
  bounds.max_bytes = StoredBound(bytes, kDefaultQuarantineBytes);
  bounds.max_records = StoredBound(records, kDefaultQuarantineRecords);
  if (bounds.max_records == 0 || bounds.max_records > kMaxQuarantineRecords) {
    bounds.max_records = kDefaultQuarantineRecords;
  }
  return bounds;
}

Status Registry::SetQuarantineLimits(const QuarantineBounds& bounds) {
  if (bounds.max_records == 0 || bounds.max_records > kMaxQuarantineRecords) {
    return InvalidArgument("registry: quarantine: max records " +
                           std::to_string(bounds.max_records) + " is not in [1, " +
                           std::to_string(kMaxQuarantineRecords) +
                           "] (a refusal always leaves its record)");
  }
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  {
    TS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(index_->db()));
    TS_RETURN_IF_ERROR(index_->PutSetting(kMaxBytesSetting, std::to_string(bounds.max_bytes)));
    TS_RETURN_IF_ERROR(
        index_->PutSetting(kMaxRecordsSetting, std::to_string(bounds.max_records)));
    TS_RETURN_IF_ERROR(tx.Commit());
  }
  return PruneQuarantine(bounds.max_bytes, bounds.max_records, nullptr);
}

Status Registry::RemoveQuarantineRecord(const QuarantineRecord& q) {
  TS_RETURN_IF_ERROR(index_->DeleteQuarantine(q.seq));  // the record first: see the top
  if (!q.path.empty()) TS_RETURN_IF_ERROR(options_.env->Remove(home_ + "/" + q.path));
  return Status::Ok();
}

Status Registry::PruneQuarantine(std::uint64_t max_bytes, std::uint64_t max_records,
                                 std::vector<std::string>* pruned) {
  TS_ASSIGN_OR_RETURN(std::vector<QuarantineRecord> records, index_->ListQuarantine());
  std::uint64_t bytes = 0;
  std::vector<std::uint64_t> sizes;
  for (const QuarantineRecord& q : records) {
    sizes.push_back(CopyBytes(home_, q));
    bytes += sizes.back();
  }
  std::size_t count = records.size();
  for (std::size_t i = 0; i < records.size() && (count > max_records || bytes > max_bytes); ++i) {
    TS_RETURN_IF_ERROR(RemoveQuarantineRecord(records[i]));  // oldest first: ordered by seq
    --count;
    bytes -= sizes[i];
    if (pruned != nullptr) {
      pruned->push_back("pruned quarantine record " + std::to_string(records[i].seq) +
                        (records[i].path.empty() ? "" : " and " + records[i].path));
    }
  }
  return Status::Ok();
}

Status Registry::AddToQuarantine(const std::string& file, QuarantineRecord record) {
  base::FileEnv& env = *options_.env;
  TS_ASSIGN_OR_RETURN(QuarantineBounds bounds, QuarantineLimits());
  std::string no_copy;  // why no copy is kept, when none is
  Result<package::OpenedFile> in = package::OpenRegularFile(file);
  if (!in.ok()) {
    no_copy = in.status().message();
  } else if (in->size > bounds.max_bytes) {
    // Not read at all: hashing a huge file would cost what the bound is there to save.
    no_copy = "the file's " + std::to_string(in->size) + " bytes exceed the quarantine's bound of " +
              std::to_string(bounds.max_bytes) + " bytes (tessera quarantine limits)";
  }
  const std::uint64_t room = no_copy.empty() ? bounds.max_bytes - in->size : bounds.max_bytes;
  if (Status pruned = PruneQuarantine(room, bounds.max_records - 1, nullptr); !pruned.ok()) {
    // The record is still written; a copy is not, as it might not fit the bounds.
    if (no_copy.empty()) no_copy = "pruning older records failed: " + pruned.message();
  }
  if (no_copy.empty()) {
    const std::string temp = home_ + "/quarantine/incoming-" + std::to_string(::getpid());
    (void)env.Remove(temp);  // left by a crash of this pid's predecessor
    const BoundedCopy copy = CopyBounded(env, in->fd.get(), file, temp, bounds.max_bytes);
    record.file_sha256 = copy.sha256;
    if (copy.copied.ok()) {
      const std::string prefix =
          "quarantine/" + std::to_string(record.at) + "-" + copy.sha256.substr(0, 16);
      std::string name = prefix;
      // Two refusals of one file within a millisecond: distinct names, so that purging one
      // record never removes the other's copy.
      for (int n = 2; ::access((home_ + "/" + name + ".tpkg").c_str(), F_OK) == 0; ++n) {
        name = prefix + "-" + std::to_string(n);
      }
      Status renamed = env.Rename(temp, home_ + "/" + name + ".tpkg");
      if (renamed.ok()) {
        record.path = name + ".tpkg";
      } else {
        (void)env.Remove(temp);
        no_copy = renamed.message();
      }
    } else {
      no_copy = copy.copied.message();
    }
  }
  if (!no_copy.empty()) {
    record.path.clear();
    record.reason += "; no copy kept: " + no_copy;
  }
  return index_->AddQuarantine(record).status();
}

Status Registry::DoctorQuarantine(bool repair, DoctorReport* report) {
  TS_ASSIGN_OR_RETURN(QuarantineBounds bounds, QuarantineLimits());
  TS_ASSIGN_OR_RETURN(std::vector<QuarantineRecord> records, index_->ListQuarantine());
  std::uint64_t bytes = 0;
  for (const QuarantineRecord& q : records) bytes += CopyBytes(home_, q);
  const bool too_many = records.size() > bounds.max_records;
  const bool too_big = bytes > bounds.max_bytes;
  if (too_many) {
    report->findings.push_back("quarantine: " + std::to_string(records.size()) +
                               " records, more than its bound of " +
                               std::to_string(bounds.max_records));
  }
  if (too_big) {
    report->findings.push_back("quarantine: its copies hold " + std::to_string(bytes) +
                               " bytes, more than its bound of " +
                               std::to_string(bounds.max_bytes));
  }
  if (repair && (too_many || too_big)) {
    TS_RETURN_IF_ERROR(PruneQuarantine(bounds.max_bytes, bounds.max_records, &report->repairs));
  }
  return Status::Ok();
}

Result<std::vector<QuarantineRecord>> Registry::PurgeQuarantine(const QuarantinePurge& which) {
  TS_ASSIGN_OR_RETURN(Lock lock, LockStore());
  TS_ASSIGN_OR_RETURN(std::vector<QuarantineRecord> records, index_->ListQuarantine());
  std::vector<QuarantineRecord> going;
  for (std::int64_t seq : which.seqs) {
    bool found = false;
    for (const QuarantineRecord& q : records) {
      if (q.seq != seq) continue;
      found = true;
      going.push_back(q);
    }
    if (!found) {
      return Status(StatusCode::kNotFound,
                    "registry: quarantine: no record " + std::to_string(seq));
    }
  }
  if (which.seqs.empty()) {
    for (const QuarantineRecord& q : records) {
      if (q.at < which.before_unix_ms) going.push_back(q);
    }
  }
  for (const QuarantineRecord& q : going) TS_RETURN_IF_ERROR(RemoveQuarantineRecord(q));
  return going;
}

}  // namespace tessera::registry
