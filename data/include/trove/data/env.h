// Env: the file-system operations through which the journal writes, so that a test can put a
// fault-injecting implementation in their place (leveldb's include/leveldb/env.h is the model)
// and make a write stop part-way (a full disk), an fsync fail with EIO, or a power loss drop
// every byte not yet made durable.
//
// What goes through it: creating and opening a journal segment for writing, appending,
// fdatasync, truncation (cutting a torn tail or a refused batch) and fsync of a directory.
// Reads (recovery, Journal::read, Journal::scan), mkdir and the writer's flock use the OS
// directly: a simulated power loss rewrites the files on disk, and the reads see that.
//
//   JournalOptions opts;
//   opts.env = &my_env;            // default (nullptr): Env::posix()
//   auto journal = Journal::open(dir, opts);
//
// Ownership: the caller of open_writable() owns the WritableFile it returns; an Env outlives
// every file it opened and every Journal or Store given it (Env::posix() lives for the whole
// process). Thread-safety: an Env's methods may be called from any thread at once; one
// WritableFile is used by one thread at a time (the journal's writer).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "trove/data/status.h"

namespace trove {

// A file written at its end.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at the end of the file. On an error a prefix of it may be in the file
  // (a full disk stops a write part-way): the caller cuts back with truncate().
  virtual Status append(std::string_view data) = 0;
  // Makes what was written, and the file's size, durable (fdatasync).
  virtual Status sync() = 0;
  // Cuts the file to `size` bytes; later appends go after them. Durable only after sync().
  virtual Status truncate(uint64_t size) = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // The real file system (POSIX calls). Never destroyed.
  static Env* posix();

  enum class Open {
    kExisting,  // the file must exist; writes go after its current end
    // Create the file, emptying one of that name: for a caller that owns the name (a journal
    // segment named after a seq nothing acknowledged yet may be left by a failed creation).
    kCreate,
  };
  virtual Result<std::unique_ptr<WritableFile>> open_writable(const std::string& path,
                                                              Open mode) = 0;
  // Makes the entries of directory `dir` (files created, removed or renamed in it) durable.
  virtual Status sync_dir(const std::string& dir) = 0;
};

}  // namespace trove
