#pragma once

#include <string>

namespace ilchat::net {

// 20 characters of URL-safe base64 from 15 random bytes: the shape engine.io gives session
// and socket ids. Unguessable, so a sid cannot be hijacked by guessing it.
std::string random_id();

}  // namespace ilchat::net
