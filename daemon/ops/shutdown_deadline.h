#pragma once

#include <chrono>
#include <thread>

namespace ilchat::ops {

// While the daemon shuts down after its control loop (and with it the signal handling) ended: a
// thread that ends the process at once (exit status 1) when the deadline passes or a second
// SIGTERM/SIGINT comes, so that a stuck database cannot hold a stop up for ever. Destroying it
// (the shutdown finished) ends the thread.
class ShutdownDeadline {
public:
    explicit ShutdownDeadline(std::chrono::steady_clock::time_point deadline);

private:
    std::jthread thread_;
};

}  // namespace ilchat::ops
