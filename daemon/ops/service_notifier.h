#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace ilchat::ops {

// systemd's notification protocol (Type=notify): READY, RELOADING, STOPPING, STATUS, WATCHDOG.
// Without NOTIFY_SOCKET (not under systemd) every call does nothing.
namespace service {

void ready(std::string_view status);
void reloading();
void stopping();
void status(std::string_view text);
void watchdog();
// Half of WatchdogSec when the unit has a watchdog: how often watchdog() must be called.
std::optional<std::chrono::milliseconds> watchdog_interval();

}  // namespace service

}  // namespace ilchat::ops
