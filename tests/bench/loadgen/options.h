#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ilchat::loadgen {

// Everything a run is told on the command line (tests/bench/README.md explains each option).
struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/socket.io/";

    std::string client_cfg;
    std::string name;
    std::string auth_key;
    std::string auth_secret;

    int clients = 100;
    int rooms = 1;
    std::int64_t room_id_base = 1;
    std::int64_t user_id_base = 100000;
    bool im = false;

    double connect_rate = 1000;
    int connect_concurrency = 1000;
    double ready_timeout = 30;
    double settle_timeout = 60;

    int senders = 0;  // 0: every client
    double rate = 100;
    double duration = 10;
    int message_bytes = 0;
    double drain_timeout = 10;
    double hold = 0;
    double time_limit = 600;

    std::string source_address_text;
    std::vector<std::string> source_addresses;  // filled from source_address_text
    int backend_concurrency = 8;
};

// Client i is user user_id_base + i in room room_id_base + (i mod rooms).
inline std::int64_t user_id_of(const Options& o, int client) { return o.user_id_base + client; }
inline int room_index_of(const Options& o, int client) { return client % o.rooms; }
inline std::int64_t room_id_of(const Options& o, int room_index) { return o.room_id_base + room_index; }

void add_options(CLI::App& app, Options& options);

// Reads --client-cfg (explicit options win), checks what CLI11 cannot check alone and expands
// --source-addresses. Returns the problems, one per line; empty when the run may start.
std::string complete_options(Options& options);

}  // namespace ilchat::loadgen
