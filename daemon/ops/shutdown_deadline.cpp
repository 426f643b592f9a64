#include "daemon/ops/shutdown_deadline.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <ctime>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace ilchat::ops {

ShutdownDeadline::ShutdownDeadline(std::chrono::steady_clock::time_point deadline)
    : thread_([deadline](std::stop_token stop) {
          sigset_t stop_signals;
          sigemptyset(&stop_signals);
          sigaddset(&stop_signals, SIGTERM);
          sigaddset(&stop_signals, SIGINT);
          while (!stop.stop_requested()) {
              const auto left = deadline - std::chrono::steady_clock::now();
              if (left <= std::chrono::steady_clock::duration::zero()) {
                  spdlog::error("shutdown_timeout passed: exiting before the shutdown finished");
                  spdlog::default_logger()->flush();
                  ::_exit(1);
              }
              // Short waits, so that the end of the shutdown is noticed soon.
              const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(20)));
              const timespec tick{0, static_cast<long>(wait.count())};
              if (const int signal = ::sigtimedwait(&stop_signals, nullptr, &tick); signal > 0) {
                  spdlog::warn("{} again: exiting at once", strsignal(signal));
                  spdlog::default_logger()->flush();
                  ::_exit(1);
              }
          }
      }) {}

}  // namespace ilchat::ops
