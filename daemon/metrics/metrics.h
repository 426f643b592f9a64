#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

namespace ilchat::metrics {

// Every ilchatd_* metric (docs/architecture.md). The families come from one table in
// metrics.cpp, which also writes the reference documentation, so the scrape and the docs cannot
// drift apart. Accessors may be called from any thread: prometheus-cpp locks the family while it
// looks up a label set, and the returned metric is atomic and lives as long as this object, so
// hot paths may keep the reference instead of asking again.
//
// Accessor names are the metric name without the ilchatd_ prefix and the _total suffix; the
// arguments are the label values, in the order of the table.
class Metrics {
public:
    Metrics();  // registers every family and sets ilchatd_build_info{version} to 1
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    prometheus::Gauge& connections(std::string_view nsp, std::string_view transport);
    prometheus::Gauge& engineio_sessions(std::string_view transport);
    prometheus::Counter& handshakes(std::string_view transport);
    prometheus::Counter& handshake_failures(std::string_view reason);
    prometheus::Counter& disconnects(std::string_view reason);
    prometheus::Counter& packets_received(std::string_view nsp);
    prometheus::Counter& packets_sent(std::string_view nsp);
    prometheus::Counter& chat_messages(std::string_view kind);  // room, whisper, osc
    prometheus::Counter& bytes_sent();
    prometheus::Counter& slow_consumer_disconnects();
    prometheus::Counter& ignored_events(std::string_view nsp, std::string_view reason);
    prometheus::Counter& backend_requests(std::string_view route, std::string_view result);
    prometheus::Histogram& backend_request_duration_seconds(std::string_view route);
    prometheus::Histogram& db_query_duration_seconds(std::string_view op);
    prometheus::Counter& db_errors(std::string_view nsp);
    prometheus::Counter& db_reconnects(std::string_view nsp);
    prometheus::Gauge& db_up(std::string_view nsp);
    prometheus::Gauge& db_write_queue_depth(std::string_view nsp);
    prometheus::Gauge& spooled_messages(std::string_view nsp);
    prometheus::Counter& deletion_rows_deleted(std::string_view table);
    prometheus::Gauge& deletion_last_success_timestamp_seconds();
    prometheus::Gauge& deletion_enabled();
    prometheus::Gauge& deletion_next_run_timestamp_seconds();
    prometheus::Counter& config_reloads(std::string_view result);
    prometheus::Counter& admin_commands(std::string_view result);
    prometheus::Gauge& rooms(std::string_view nsp);
    prometheus::Gauge& conversations(std::string_view nsp);
    prometheus::Gauge& cluster_up();
    prometheus::Gauge& cluster_nodes();
    prometheus::Counter& cluster_records(std::string_view direction);  // published, applied
    prometheus::Gauge& cluster_publish_queue();
    prometheus::Gauge& cluster_lease_held(std::string_view lease);

    // Prometheus text format 0.0.4: the table's families in table order (a family without any
    // label set yet still gets its HELP and TYPE lines), then the process_* metrics.
    std::string render() const;
    // The same samples as JSON, {"samples": [{"name", "labels": {...}, "value"}]}: a histogram
    // gives its _count and _sum.
    std::string render_json() const;

    // The table as a Markdown table: name, type, labels, help.
    static std::string reference_markdown();

private:
    std::vector<prometheus::MetricFamily> collect() const;

    using AnyFamily = std::variant<prometheus::Family<prometheus::Counter>*, prometheus::Family<prometheus::Gauge>*,
                                   prometheus::Family<prometheus::Histogram>*>;

    prometheus::Registry registry_;
    std::vector<AnyFamily> families_;  // indexed like the table; owned by registry_
};

}  // namespace ilchat::metrics
