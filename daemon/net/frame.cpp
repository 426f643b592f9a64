#include "daemon/net/frame.h"

#include <libwebsockets.h>

namespace ilchat::net {

std::string_view Frame::payload() const { return std::string_view(bytes).substr(LWS_PRE); }

unsigned char* Frame::writable_payload() const { return reinterpret_cast<unsigned char*>(bytes.data()) + LWS_PRE; }

SharedFrame make_frame(std::string_view payload, bool binary) {
    auto frame = std::make_shared<Frame>();
    frame->bytes.reserve(LWS_PRE + payload.size());
    frame->bytes.assign(LWS_PRE, '\0');
    frame->bytes.append(payload);
    frame->binary = binary;
    return frame;
}

}  // namespace ilchat::net
