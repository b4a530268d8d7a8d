// Opening a file that must be a regular file. open(2) of a FIFO for reading blocks until a
// writer appears (forever, if none does), and a device or directory is never a model, a key or
// a package: such paths are refused by type before anything waits on them.
#ifndef TESSERA_BASE_REGULAR_FILE_H_
#define TESSERA_BASE_REGULAR_FILE_H_

#include <string>

#include "tessera/status.h"

namespace tessera::base {

// A read-only, close-on-exec descriptor of `path` (the caller closes it), opened without
// blocking and checked with fstat. kNotFound when it does not exist; kIoError naming
// its type ("a FIFO", "a directory", "a character device", …) when it is not a regular file;
// kIoError with the system's reason otherwise.
Result<int> OpenRegularFile(const std::string& path);

}  // namespace tessera::base

#endif  // TESSERA_BASE_REGULAR_FILE_H_
