#pragma once

#include <chrono>
#include <cstdint>

namespace ilchat::loadgen {

// CLOCK_MONOTONIC in nanoseconds: the one clock of a run. Messages carry it, so generators on
// the same machine can measure each other's deliveries.
inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace ilchat::loadgen
