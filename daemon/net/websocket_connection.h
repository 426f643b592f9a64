#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/net/frame.h"

struct lws;

namespace ilchat::net {

// One accepted websocket on the network loop. The network loop owns it (deletes it after
// libwebsockets reports the close); the protocol layer above gets the messages.
class WebSocketConnection {
public:
    explicit WebSocketConnection(lws* wsi, std::size_t max_message_bytes) : wsi_(wsi), max_message_bytes_(max_message_bytes) {}
    virtual ~WebSocketConnection() = default;
    WebSocketConnection(const WebSocketConnection&) = delete;
    WebSocketConnection& operator=(const WebSocketConnection&) = delete;

    // Queues a frame; it is written when the socket can take it, in order.
    void send(SharedFrame frame);
    // Writes what is queued, then closes with a normal close frame.
    void close();
    std::size_t queued_frames() const { return queue_.size() - sent_; }
    std::size_t queued_bytes() const { return queued_bytes_; }

    // Called by the network loop; each returns what the lws callback must return.
    int on_receive(const void* data, std::size_t len, bool first, bool final, bool binary);
    int on_established();  // frames queued while the handshake ran go out now
    int on_writeable();
    void on_closed() { closed(); }

protected:
    virtual void message(std::string_view data, bool binary) = 0;
    virtual void closed() = 0;  // the connection is gone; no further calls follow

    lws* wsi() const { return wsi_; }

private:
    SharedFrame take_frame();
    int write_batch();

    lws* wsi_;
    std::size_t max_message_bytes_;
    std::string incoming_;
    bool incoming_binary_ = false;
    // A FIFO as a vector and a read index: std::deque allocates over half a kilobyte per
    // connection up front, most of which an idle connection never uses.
    std::vector<SharedFrame> queue_;
    std::size_t sent_ = 0;  // frames of queue_ already written
    std::size_t queued_bytes_ = 0;
    bool closing_ = false;
};

}  // namespace ilchat::net
