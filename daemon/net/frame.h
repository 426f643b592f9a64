#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ilchat::net {

// Bytes that leave through a websocket (or a polling response): serialised once and shared by
// every connection it goes to. The headroom in front of the payload is where libwebsockets writes
// the websocket frame header of whichever connection is sending it, which is why `bytes` is
// mutable; the payload itself never changes.
struct Frame {
    mutable std::string bytes;  // headroom + payload
    bool binary = false;
    // Non-empty: this frame makes an earlier one with the same key pointless while that one is
    // still waiting to be written, because it is a newer snapshot of the same state (a room's user
    // list). A send queue then drops the older one, so that a client that reads slower than the
    // state changes gets the latest snapshot instead of every one in between.
    std::string supersedes;

    std::string_view payload() const;
    unsigned char* writable_payload() const;
};

using SharedFrame = std::shared_ptr<const Frame>;

SharedFrame make_frame(std::string_view payload, bool binary = false, std::string supersedes = {});

// Removes from `queue`, at index `from` or later, the frame `incoming` supersedes (at most one:
// each arrival removes its predecessor). Returns the removed frame's payload size, or 0.
std::size_t drop_superseded(std::vector<SharedFrame>& queue, std::size_t from, const Frame& incoming);

}  // namespace ilchat::net
