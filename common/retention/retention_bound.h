#pragma once

#include <chrono>
#include <string_view>

namespace ilchat::retention {

// The age limit of the deletion job (docs/decisions.md D9; docs/protocol.md, "SQL"): `now` minus `value` units ("days", "weeks",
// "months"/"month", "years") on the local calendar, exactly as the Node server's JS Date does it:
// the wall-clock time is kept, a day that does not exist in the target month rolls forward
// (31 Mar - 1 month = 3 Mar, 29 Feb - 1 year = 1 Mar), a wall-clock time skipped by a DST change
// is read with the offset in force before it, and a repeated one means its first occurrence.
// An unknown unit gives `now`, as in Node.
std::chrono::system_clock::time_point deletion_bound(std::chrono::system_clock::time_point now,
                                                     std::string_view unit, int value);

// When the daily deletion job runs next (D9): the first local HH:MM strictly after `now`,
// computed on the wall clock so that DST changes do not shift it. On a day that skips HH:MM it
// runs at the first instant after the gap; on a day that repeats HH:MM it runs once, at the first.
std::chrono::system_clock::time_point next_run(std::chrono::system_clock::time_point now, int hour, int minute);

}  // namespace ilchat::retention
