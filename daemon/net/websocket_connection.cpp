#include "daemon/net/websocket_connection.h"

#include <libwebsockets.h>

namespace ilchat::net {

void WebSocketConnection::send(SharedFrame frame) {
    if (closing_) return;
    queued_bytes_ += frame->payload().size();
    queue_.push_back(std::move(frame));
    lws_callback_on_writable(wsi_);
}

void WebSocketConnection::close() {
    if (closing_) return;
    closing_ = true;
    lws_callback_on_writable(wsi_);
}

int WebSocketConnection::on_receive(const void* data, std::size_t len, bool first, bool final, bool binary) {
    if (closing_) return 0;
    if (first) {
        incoming_.clear();
        incoming_binary_ = binary;
    }
    if (incoming_.size() + len > max_message_bytes_) {
        lws_close_reason(wsi_, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nullptr, 0);
        return -1;
    }
    incoming_.append(static_cast<const char*>(data), len);
    // A message may arrive in several pieces: websocket fragments, or one frame split by the
    // receive buffer. It is complete with the final fragment's last byte.
    if (final && lws_remaining_packet_payload(wsi_) == 0) {
        std::string complete;
        complete.swap(incoming_);
        message(complete, incoming_binary_);
    }
    return 0;
}

int WebSocketConnection::on_established() {
    if (queued_frames() > 0 || closing_) lws_callback_on_writable(wsi_);
    return 0;
}

int WebSocketConnection::on_writeable() {
    if (queued_frames() > 0) {
        SharedFrame frame = std::move(queue_[sent_++]);
        if (sent_ == queue_.size()) {
            queue_.clear();  // keeps the capacity: no allocation for the next frames
            sent_ = 0;
        } else if (sent_ >= 64 && sent_ * 2 >= queue_.size()) {
            // A client that never quite catches up: drop the written half rather than grow.
            queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(sent_));
            sent_ = 0;
        }
        queued_bytes_ -= frame->payload().size();
        const auto size = frame->payload().size();
        if (lws_write(wsi_, frame->writable_payload(), size, frame->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) <
            static_cast<int>(size))
            return -1;
        if (queued_frames() > 0 || closing_) lws_callback_on_writable(wsi_);
        return 0;
    }
    if (closing_) {
        // The close frame (1000) is written here and the connection closed at once: left to
        // libwebsockets 4.1, each close waits for the peer's answer behind a timer in its sorted
        // list, and closing every connection at shutdown became quadratic (seconds at 10,000).
        // Opcode 4 is lws's private LWS_WRITE_CLOSE, which its public header no longer names.
        constexpr auto write_close = static_cast<lws_write_protocol>(4);
        unsigned char frame[LWS_PRE + 2];
        frame[LWS_PRE] = LWS_CLOSE_STATUS_NORMAL >> 8;
        frame[LWS_PRE + 1] = LWS_CLOSE_STATUS_NORMAL & 0xff;
        lws_write(wsi_, frame + LWS_PRE, 2, write_close);
        return -1;
    }
    return 0;
}

}  // namespace ilchat::net
