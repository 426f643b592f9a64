#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ilchat::net {

// Bytes that leave through a websocket (or a polling response): serialised once and shared by
// every connection it goes to. The headroom in front of the payload is where libwebsockets writes
// the websocket frame header of whichever connection is sending it, which is why `bytes` is
// mutable; the payload itself never changes.
struct Frame {
    mutable std::string bytes;  // headroom + payload
    bool binary = false;

    std::string_view payload() const;
    unsigned char* writable_payload() const;
};

using SharedFrame = std::shared_ptr<const Frame>;

SharedFrame make_frame(std::string_view payload, bool binary = false);

}  // namespace ilchat::net
