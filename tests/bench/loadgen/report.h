#pragma once

#include <string>

#include "tests/bench/loadgen/backend.h"
#include "tests/bench/loadgen/error_log.h"
#include "tests/bench/loadgen/figures.h"
#include "tests/bench/loadgen/options.h"

namespace ilchat::loadgen {

struct Run {
    const Options& options;
    const Registration& registration;
    const Figures& figures;
    const ErrorLog& errors;
    double duration_seconds;
};

// Every requested client connected and stayed, every delivery arrived exactly once, no error.
bool run_ok(const Run& run);

// A few lines for people.
std::string summary_text(const Run& run);

// One line of JSON with every figure, for scripts (tests/bench/README.md describes the fields).
std::string json_line(const Run& run);

}  // namespace ilchat::loadgen
