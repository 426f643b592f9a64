#include "daemon/net/chunked_body.h"

#include <algorithm>

namespace ilchat::net {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// More digits than this cannot be a size any request of ours may have.
constexpr std::size_t max_size_digits = 12;

}  // namespace

ChunkedBody::Status ChunkedBody::feed(std::string_view bytes, std::string& body) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        switch (state_) {
            case State::size:
                if (const int digit = hex_digit(c); digit >= 0) {
                    if (++size_digits_ > max_size_digits) return Status::invalid;
                    chunk_ = chunk_ * 16 + static_cast<std::size_t>(digit);
                } else if (size_digits_ == 0) {
                    return Status::invalid;
                } else if (c == ';' || c == ' ' || c == '\t') {
                    state_ = State::extension;
                } else if (c == '\r') {
                    state_ = State::size_lf;
                } else {
                    return Status::invalid;
                }
                break;
            case State::extension:  // chunk extensions are allowed and meaningless to us
                if (c == '\r') state_ = State::size_lf;
                break;
            case State::size_lf:
                if (c != '\n') return Status::invalid;
                size_digits_ = 0;
                state_ = chunk_ == 0 ? State::trailer_start : State::data;
                break;
            case State::data: {
                const std::size_t take = std::min(chunk_, bytes.size() - i);
                body.append(bytes.substr(i, take));
                chunk_ -= take;
                i += take - 1;
                if (chunk_ == 0) state_ = State::data_cr;
                break;
            }
            case State::data_cr:
                if (c != '\r') return Status::invalid;
                state_ = State::data_lf;
                break;
            case State::data_lf:
                if (c != '\n') return Status::invalid;
                state_ = State::size;
                break;
            case State::trailer_start:  // an empty line ends the body, anything else is a trailer field
                state_ = c == '\r' ? State::final_lf : State::trailer;
                break;
            case State::trailer:
                if (c == '\r') state_ = State::trailer_lf;
                break;
            case State::trailer_lf:
                if (c != '\n') return Status::invalid;
                state_ = State::trailer_start;
                break;
            case State::final_lf:
                if (c != '\n') return Status::invalid;
                state_ = State::done;
                leftover_ = bytes.size() - i - 1;
                return Status::complete;
            case State::done:
                return Status::invalid;
        }
    }
    return state_ == State::done ? Status::complete : Status::more;
}

}  // namespace ilchat::net
