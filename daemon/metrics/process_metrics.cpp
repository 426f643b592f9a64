#include "daemon/metrics/process_metrics.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace ilchat::metrics {

namespace {

struct ProcessSample {
    std::optional<double> cpu_seconds;
    std::optional<double> resident_bytes;
    std::optional<double> virtual_bytes;
    std::optional<double> start_time_seconds;
    std::optional<double> open_fds;
    std::optional<double> max_fds;
    std::optional<double> threads;
};

struct ProcessMetric {
    const char* name;
    prometheus::MetricType type;
    const char* help;
    std::optional<double> ProcessSample::*value;
};

// Names and help as the Go and Python clients write them, so stock dashboards and alerts work.
constexpr ProcessMetric process_metrics[] = {
    {"process_cpu_seconds_total", prometheus::MetricType::Counter, "Total user and system CPU time spent in seconds.",
     &ProcessSample::cpu_seconds},
    {"process_resident_memory_bytes", prometheus::MetricType::Gauge, "Resident memory size in bytes.",
     &ProcessSample::resident_bytes},
    {"process_virtual_memory_bytes", prometheus::MetricType::Gauge, "Virtual memory size in bytes.",
     &ProcessSample::virtual_bytes},
    {"process_start_time_seconds", prometheus::MetricType::Gauge,
     "Start time of the process since unix epoch in seconds.", &ProcessSample::start_time_seconds},
    {"process_open_fds", prometheus::MetricType::Gauge, "Number of open file descriptors.", &ProcessSample::open_fds},
    {"process_max_fds", prometheus::MetricType::Gauge, "Maximum number of open file descriptors.",
     &ProcessSample::max_fds},
    {"process_threads", prometheus::MetricType::Gauge, "Number of OS threads in the process.", &ProcessSample::threads},
};

std::optional<double> number(std::string_view text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Process start times in /proc are clock ticks since boot; the boot time itself is only in
// /proc/stat. It does not change while we run, so it is read once.
std::optional<double> boot_time_seconds() {
    static const std::optional<double> boot_time = [] {
        std::ifstream in("/proc/stat");
        std::string key, value;
        while (in >> key >> value) {
            if (key == "btime") return number(value);
            in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
        }
        return std::optional<double>();
    }();
    return boot_time;
}

// proc(5) numbers the fields of /proc/self/stat from 1; the command name (field 2) may hold
// spaces and parentheses, so the counting restarts after its closing parenthesis at field 3.
void read_stat(ProcessSample& sample) {
    std::ifstream in("/proc/self/stat");
    std::string line;
    if (!std::getline(in, line)) return;
    auto comm_end = line.rfind(')');
    if (comm_end == std::string::npos) return;

    constexpr int first_field = 3, utime = 14, stime = 15, num_threads = 20, starttime = 22, vsize = 23, rss = 24;
    std::optional<double> field[rss + 1];
    std::istringstream rest(line.substr(comm_end + 1));
    std::string token;
    for (int index = first_field; index <= rss && rest >> token; ++index) field[index] = number(token);

    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (field[utime] && field[stime]) sample.cpu_seconds = (*field[utime] + *field[stime]) / ticks;
    sample.threads = field[num_threads];
    sample.virtual_bytes = field[vsize];
    if (field[rss]) sample.resident_bytes = *field[rss] * static_cast<double>(::sysconf(_SC_PAGESIZE));
    if (auto boot = boot_time_seconds(); boot && field[starttime])
        sample.start_time_seconds = *boot + *field[starttime] / ticks;
}

void count_open_fds(ProcessSample& sample) {
    std::error_code error;
    std::filesystem::directory_iterator fds("/proc/self/fd", error);
    if (error) return;
    double count = 0;
    for (auto it = begin(fds); it != end(fds); it.increment(error)) ++count;
    if (!error) sample.open_fds = count;
}

// The soft limit, as in /proc/self/limits: "Max open files  <soft>  <hard>  files".
void read_max_fds(ProcessSample& sample) {
    constexpr std::string_view key = "Max open files";
    std::ifstream in("/proc/self/limits");
    std::string line;
    while (std::getline(in, line)) {
        if (!line.starts_with(key)) continue;
        std::istringstream fields(line.substr(key.size()));
        std::string soft;
        if (fields >> soft) sample.max_fds = number(soft);
        return;
    }
}

prometheus::ClientMetric sample_of(prometheus::MetricType type, double value) {
    prometheus::ClientMetric metric;
    if (type == prometheus::MetricType::Counter)
        metric.counter.value = value;
    else
        metric.gauge.value = value;
    return metric;
}

}  // namespace

void append_process_metrics(std::vector<prometheus::MetricFamily>& families) {
    ProcessSample sample;
    read_stat(sample);
    count_open_fds(sample);
    read_max_fds(sample);

    for (const auto& metric : process_metrics) {
        const auto& value = sample.*metric.value;
        if (!value) continue;
        families.push_back({metric.name, metric.help, metric.type, {sample_of(metric.type, *value)}});
    }
}

}  // namespace ilchat::metrics
