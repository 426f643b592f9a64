#pragma once

#include <chrono>
#include <cstdint>

namespace ilchat::chat {

// Wall-clock milliseconds since 1970: the `timestamp` of every chat message object.
inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace ilchat::chat
