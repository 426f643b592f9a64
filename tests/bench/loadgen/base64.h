#pragma once

#include <string>
#include <string_view>

namespace ilchat::loadgen {

// Standard base64 with padding (RFC 4648): Basic credentials and websocket keys.
std::string base64(std::string_view bytes);

}  // namespace ilchat::loadgen
