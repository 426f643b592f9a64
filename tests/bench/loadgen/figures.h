#pragma once

#include <cstdint>

#include "tests/bench/loadgen/histogram.h"

namespace ilchat::loadgen {

// What the socket phases measured (tests/bench/README.md, "The JSON line", defines each).
struct Figures {
    int clients_started = 0;
    int clients_connected = 0;  // reached ready
    int clients_lost = 0;       // were ready, then closed or failed before the end
    double connect_seconds = 0;
    Histogram connect_us;
    double settle_seconds = 0;

    double steady_seconds = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t deliveries = 0;           // of this process's messages, each (message, receiver) once
    std::uint64_t deliveries_expected = 0;  // sum over sent messages of the room's ready members
    std::uint64_t deliveries_missing = 0;
    std::uint64_t deliveries_foreign = 0;  // messages of other generator processes in shared rooms
    std::uint64_t window_deliveries = 0;   // own and foreign, received in the steady and drain phases
    double delivery_seconds = 0;           // steady start to the last of those
    Histogram latency_us;
    // How late the generator's 1 ms timer fired during the steady and drain phases: when this
    // is large the generator itself was busy, and latencies include its own delay.
    Histogram loop_lag_us;

    double hold_seconds = 0;
};

}  // namespace ilchat::loadgen
