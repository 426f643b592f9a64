#pragma once

#include <string>

namespace ilchat::net {

// 20 characters of URL-safe base64 from 15 random bytes: the shape engine.io gives session
// and socket ids. Unguessable, so a sid cannot be hijacked by guessing it.
std::string random_id();

// A random (version 4) UUID in its usual text form: On-Screen Chat conversation and message ids.
std::string uuid_v4();

}  // namespace ilchat::net
