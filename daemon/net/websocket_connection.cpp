#include "daemon/net/websocket_connection.h"

#include <libwebsockets.h>

namespace ilchat::net {

namespace {

// Several queued frames go out in one write of at most about this many bytes: one syscall for a
// burst instead of one per frame, without letting one client's backlog hold up the others.
constexpr std::size_t batch_bytes = 64 * 1024;

// The header of an unmasked server frame (RFC 6455 5.2), FIN set.
void append_frame_header(std::string& out, bool binary, std::size_t length) {
    out += static_cast<char>(0x80 | (binary ? 0x2 : 0x1));
    if (length < 126) {
        out += static_cast<char>(length);
    } else if (length <= 0xffff) {
        out += static_cast<char>(126);
        out += static_cast<char>(length >> 8);
        out += static_cast<char>(length & 0xff);
    } else {
        out += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((length >> shift) & 0xff);
    }
}

}  // namespace

void WebSocketConnection::send(SharedFrame frame) {
    if (closing_) return;
    queued_bytes_ -= drop_superseded(queue_, sent_, *frame);
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

SharedFrame WebSocketConnection::take_frame() {
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
    return frame;
}

int WebSocketConnection::write_batch() {
    // One buffer for every connection: the network loop is one thread, and a buffer per
    // connection would cost memory for each idle one.
    static std::string batch;
    batch.assign(LWS_PRE, '\0');
    while (queued_frames() > 0 && batch.size() - LWS_PRE < batch_bytes) {
        const SharedFrame frame = take_frame();
        append_frame_header(batch, frame->binary, frame->payload().size());
        batch += frame->payload();
    }
    const std::size_t size = batch.size() - LWS_PRE;
    // Already framed: libwebsockets passes raw bytes through (and keeps what the socket does not
    // take, sending it before anything newer).
    auto* bytes = reinterpret_cast<unsigned char*>(batch.data()) + LWS_PRE;
    return lws_write(wsi_, bytes, size, LWS_WRITE_RAW) < static_cast<int>(size) ? -1 : 0;
}

int WebSocketConnection::on_writeable() {
    if (queued_frames() > 1) {
        if (write_batch() < 0) return -1;
        if (queued_frames() > 0 || closing_) lws_callback_on_writable(wsi_);
        return 0;
    }
    if (queued_frames() == 1) {
        // A lone frame goes out from its shared bytes, lws writing the header into their headroom.
        const SharedFrame frame = take_frame();
        const auto size = frame->payload().size();
        if (lws_write(wsi_, frame->writable_payload(), size, frame->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) <
            static_cast<int>(size))
            return -1;
        if (closing_) lws_callback_on_writable(wsi_);
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
