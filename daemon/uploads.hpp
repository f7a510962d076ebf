#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace claribi::daemon {

/// Which local files a tool call may send (path twins).
struct UploadOptions {
  std::vector<std::string> dirs;         ///< --upload-dir, as given
  bool allow_hidden = false;             ///< --upload-allow-hidden
  bool allow_hardlinks = false;          ///< --upload-allow-hardlinks
  std::uint64_t max_encoded = 25000000;  ///< --max-upload-mb, in bytes of base64
};

/// A file that passed every check, identified by device and inode so the sender can make
/// sure it opens the same one.
struct CheckedFile {
  std::string path;  ///< canonical
  std::uint64_t size = 0;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
};

/// Checks `requested` for upload: an absolute path that resolves (symlinks followed) to a
/// regular file inside an allowed directory (`options.dirs` plus `roots`), not hidden unless
/// allowed, with one name only (a hard link can bring a file from anywhere on the volume into
/// an allowed directory) unless allowed, not in a secret store or the bridge's own state, and
/// within the cap; the path holds no control character. The error says why and how to allow
/// it.
Result<CheckedFile> check_upload(const UploadOptions& options, const std::string& requested,
                                 const std::vector<std::string>& roots = {});

}  // namespace claribi::daemon
