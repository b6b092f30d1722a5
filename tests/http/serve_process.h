// `trove serve` as a real child process on loopback (the process and full-disk tests): started
// with the test flags plus `extra`, its port read from its start-up log. Header-only; include
// after http_harness.h. One thread uses it; the destructor kills the child if it still runs.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "http/http_harness.h"

namespace trove::test {

class ServeProcess {
 public:
  // Starts `trove serve` on `data_dir`, logs in `dir`; does not wait (ready() does).
  ServeProcess(const std::string& data_dir, const std::string& dir,
               std::vector<std::string> extra = {})
      : error_log_(dir + "/errors.log") {
    REQUIRE(std::filesystem::exists(TROVE_CLI_PATH));
    std::remove(error_log_.c_str());
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      std::vector<std::string> args = {TROVE_CLI_PATH,         "serve",
                                       "--data-dir=" + data_dir, "--listen=127.0.0.1:0",
                                       "--error-log=" + error_log_,
                                       "--log-file=" + dir + "/requests.log",
                                       "--index-flush-ms=50"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(TROVE_CLI_PATH, argv.data());
      ::_exit(127);
    }
  }
  ~ServeProcess() {
    // Only a child still running: kill(-1) would signal every process on the machine.
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Waits until /readyz answers 200; false if the process exited or 30 s passed.
  bool ready() {
    for (int i = 0; i < 600 && pid_ > 0; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      const std::string log = read_file(error_log_);
      const size_t p = log.find("listening on 127.0.0.1:");
      if (port_ == 0 && p != std::string::npos) port_ = std::stoi(log.substr(p + 23));
      if (port_ != 0) {
        auto r = client().Get("/readyz");
        if (r && r->status == 200) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }
  // Sends `sig` and returns the exit status.
  int signal_and_wait(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  std::string error_log() const { return read_file(error_log_); }

 private:
  std::string error_log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace trove::test
