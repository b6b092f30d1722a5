// FaultEnv: a trove::Env for tests that writes through to the real files (Env::posix()) and
// can make the disk full part-way through a write, make fsync fail with EIO, stop the machine
// after a given number of operations, and then simulate the power loss: every byte and every
// directory entry not made durable is dropped from the files on disk (leveldb's
// db/fault_injection_test.cc is the model).
//
// Durability model: appended bytes are durable once sync() of that file succeeds; a truncate
// is durable at the next sync() too (until then a power loss brings the cut bytes back, read
// and kept at the cut); a created file's name is durable once sync_dir() of its directory
// succeeds (until then a power loss removes the file).
//
// Thread-safety: one mutex around everything; the journal writes from one thread anyway.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "trove/data/env.h"

namespace trove::test {

class FaultEnv : public Env {
 public:
  // Bytes appends may still write (a disk with that much room left): a write that does not
  // fit writes what fits and fails with ENOSPC. Truncation gives room back. nullopt: no limit.
  void set_space(std::optional<uint64_t> bytes) {
    std::lock_guard lock(mu_);
    space_ = bytes;
  }
  // While on, sync() fails with EIO and makes nothing durable.
  void fail_syncs(bool on) {
    std::lock_guard lock(mu_);
    fail_syncs_ = on;
  }
  // `n` more operations (append, sync, truncate, create, sync_dir) happen, then the machine
  // is off: the next one and every later one fail with EIO and change nothing, except that a
  // crashing append writes the first half of its bytes (a torn write).
  void crash_after(uint64_t n) {
    std::lock_guard lock(mu_);
    crash_at_ = ops_ + n + 1;
  }
  bool crashed() const {
    std::lock_guard lock(mu_);
    return dead_;
  }
  uint64_t ops() const {
    std::lock_guard lock(mu_);
    return ops_;
  }

  // Drops everything not durable from the files this env wrote. Call after every file it
  // opened is closed (the journal or store destroyed).
  void power_loss() {
    std::lock_guard lock(mu_);
    for (auto& [path, f] : files_) {
      if (!f.entry_durable) {
        ::unlink(path.c_str());
        continue;
      }
      std::filesystem::resize_file(path, f.saved ? f.saved_at : f.durable);
      if (f.saved) {
        const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, f.saved->data(), f.saved->size()) ==
                static_cast<ssize_t>(f.saved->size()));
        ::close(fd);
      }
    }
    files_.clear();
  }

  Result<std::unique_ptr<WritableFile>> open_writable(const std::string& path, Open mode) override {
    std::lock_guard lock(mu_);
    if (mode == Open::kCreate) {
      if (Status st = step(); !st.ok()) return st;
    }
    auto real = Env::posix()->open_writable(path, mode);
    if (!real.ok()) return real.status();
    if (mode == Open::kCreate) {
      files_[path] = FileState{};  // size 0, nothing durable, name not durable
    } else if (!files_.count(path)) {
      const uint64_t size = std::filesystem::file_size(path);
      files_[path] = FileState{size, size, true, std::nullopt, 0};
    }
    return std::unique_ptr<WritableFile>(new File(*this, path, std::move(real).value()));
  }

  Status sync_dir(const std::string& dir) override {
    std::lock_guard lock(mu_);
    if (Status st = step(); !st.ok()) return st;
    TROVE_RETURN_IF_ERROR(Env::posix()->sync_dir(dir));
    const std::filesystem::path d = std::filesystem::path(dir).lexically_normal();
    for (auto& [path, f] : files_) {
      if (std::filesystem::path(path).parent_path().lexically_normal() == d) {
        f.entry_durable = true;
      }
    }
    return {};
  }

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t durable = 0;  // bytes durable (as of the last successful sync)
    bool entry_durable = false;
    // Durable bytes an unsynced truncate cut, from saved_at on: a power loss restores them.
    std::optional<std::string> saved;
    uint64_t saved_at = 0;
  };

  class File : public WritableFile {
   public:
    File(FaultEnv& env, std::string path, std::unique_ptr<WritableFile> real)
        : env_(env), path_(std::move(path)), real_(std::move(real)) {}

    Status append(std::string_view data) override {
      std::lock_guard lock(env_.mu_);
      FileState& f = env_.files_[path_];
      const bool crash_now = env_.ops_ + 1 == env_.crash_at_;
      if (Status st = env_.step(); !st.ok()) {
        if (crash_now && data.size() > 1) {
          const std::string_view half = data.substr(0, data.size() / 2);
          if (real_->append(half).ok()) f.size += half.size();
        }
        return st;
      }
      std::string_view fits = data;
      if (env_.space_ && *env_.space_ < data.size()) fits = data.substr(0, *env_.space_);
      TROVE_RETURN_IF_ERROR(real_->append(fits));
      f.size += fits.size();
      if (env_.space_) *env_.space_ -= fits.size();
      if (fits.size() < data.size()) {
        return Status::io_error("write error on " + path_ + ": No space left on device");
      }
      return {};
    }

    Status sync() override {
      std::lock_guard lock(env_.mu_);
      if (Status st = env_.step(); !st.ok()) return st;
      if (env_.fail_syncs_) {
        return Status::io_error("fdatasync error on " + path_ + ": Input/output error");
      }
      TROVE_RETURN_IF_ERROR(real_->sync());
      FileState& f = env_.files_[path_];
      f.durable = f.size;
      f.saved.reset();
      return {};
    }

    Status truncate(uint64_t size) override {
      std::lock_guard lock(env_.mu_);
      if (Status st = env_.step(); !st.ok()) return st;
      FileState& f = env_.files_[path_];
      // Keep the durable bytes this cut removes (those before any earlier unsynced cut).
      const uint64_t keep_to = f.saved ? f.saved_at : f.durable;
      if (size < keep_to && f.entry_durable) {
        std::string bytes(keep_to - size, '\0');
        const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        REQUIRE(::pread(fd, bytes.data(), bytes.size(), static_cast<off_t>(size)) ==
                static_cast<ssize_t>(bytes.size()));
        ::close(fd);
        f.saved = bytes + f.saved.value_or("");
        f.saved_at = size;
      }
      TROVE_RETURN_IF_ERROR(real_->truncate(size));
      if (env_.space_ && f.size > size) *env_.space_ += f.size - size;
      f.size = size;
      return {};
    }

   private:
    FaultEnv& env_;
    std::string path_;
    std::unique_ptr<WritableFile> real_;
  };

  // Counts an operation; fails it once the machine is off. REQUIRES: mu_ held.
  Status step() {
    if (!dead_) {
      ++ops_;
      dead_ = crash_at_ && ops_ >= *crash_at_;
    }
    if (dead_) return Status::io_error("Input/output error (the machine is off)");
    return {};
  }

  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;
  std::optional<uint64_t> space_;
  bool fail_syncs_ = false;
  std::optional<uint64_t> crash_at_;
  uint64_t ops_ = 0;
  bool dead_ = false;
};

}  // namespace trove::test
