#include "daemon/ops/service_notifier.h"

#include <ctime>
#include <string>

#include <systemd/sd-daemon.h>

namespace ilchat::ops::service {

namespace {

void notify(const std::string& state) { sd_notify(0, state.c_str()); }

std::uint64_t monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1000000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
}

}  // namespace

void ready(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

// systemd (since 253) wants the monotonic time with RELOADING so that it can tell this reload
// from the next one.
void reloading() { notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec())); }

void stopping() { notify("STOPPING=1"); }

void status(std::string_view text) { notify("STATUS=" + std::string(text)); }

void watchdog() { notify("WATCHDOG=1"); }

std::optional<std::chrono::milliseconds> watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::chrono::milliseconds(usec / 2000);
}

}  // namespace ilchat::ops::service
