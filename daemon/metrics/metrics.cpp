#include "daemon/metrics/metrics.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <prometheus/text_serializer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/version.h"
#include "daemon/metrics/process_metrics.h"

namespace ilchat::metrics {

namespace {

using prometheus::MetricType;

struct Definition {
    std::string_view name;
    MetricType type;
    // const char*, not string_view: GCC 12 rejects the value-initialised string_views of the
    // unused places in the constant expressions below.
    std::array<const char*, 2> labels;  // unused places stay null
    std::string_view help;

    constexpr std::size_t label_count() const {
        std::size_t count = 0;
        for (const char* label : labels) count += label ? 1 : 0;
        return count;
    }
};

// The one list of ilchatd's metrics. Label names only from the fixed set of docs/architecture.md ("… a metric")
// ("Observability") plus `table` and `kind`; their values must come from small fixed sets too, never a user, room,
// socket or address, or the series count grows with the audience.
constexpr Definition definitions[] = {
    {"ilchatd_connections", MetricType::Gauge, {"namespace", "transport"},
     "Socket.IO sockets currently connected, by namespace and the transport of their Engine.IO session."},
    {"ilchatd_engineio_sessions", MetricType::Gauge, {"transport"}, "Engine.IO sessions currently open, by transport."},
    {"ilchatd_handshakes_total", MetricType::Counter, {"transport"},
     "Engine.IO sessions opened, by the transport of the opening request."},
    {"ilchatd_handshake_failures_total", MetricType::Counter, {"reason"},
     "Engine.IO handshakes refused, by reason."},
    {"ilchatd_disconnects_total", MetricType::Counter, {"reason"}, "Engine.IO sessions closed, by reason."},
    {"ilchatd_socketio_packets_received_total", MetricType::Counter, {"namespace"},
     "Socket.IO packets received from clients, by namespace."},
    {"ilchatd_socketio_packets_sent_total", MetricType::Counter, {"namespace"},
     "Socket.IO packets sent to clients, by namespace; a broadcast counts once per receiving socket."},
    {"ilchatd_chat_messages_total", MetricType::Counter, {"kind"},
     "Chat messages accepted from users: room (to everyone in a room), whisper (to one user) and osc "
     "(On-Screen Chat)."},
    {"ilchatd_bytes_sent_total", MetricType::Counter, {}, "Bytes written to clients, both transports."},
    {"ilchatd_slow_consumer_disconnects_total", MetricType::Counter, {},
     "Sockets disconnected because their outbound queue was full."},
    {"ilchatd_ignored_events_total", MetricType::Counter, {"namespace", "reason"},
     "Client events ignored because the sender may not act so (not the participant, not in the room), by "
     "namespace and reason."},
    {"ilchatd_backend_requests_total", MetricType::Counter, {"route", "result"},
     "ILIAS /backend requests answered, by route and result (success, denied: wrong credentials, failure)."},
    {"ilchatd_backend_request_duration_seconds", MetricType::Histogram, {"route"},
     "Time to answer an ILIAS /backend request, by route."},
    {"ilchatd_db_query_duration_seconds", MetricType::Histogram, {"op"},
     "Time a database statement took on its worker, by operation."},
    {"ilchatd_db_errors_total", MetricType::Counter, {"namespace"}, "Database errors, by namespace."},
    {"ilchatd_db_reconnects_total", MetricType::Counter, {"namespace"},
     "Reconnections of a database worker, by namespace."},
    {"ilchatd_db_up", MetricType::Gauge, {"namespace"},
     "1 while the database worker of the namespace is connected, 0 while it is not."},
    {"ilchatd_db_write_queue_depth", MetricType::Gauge, {"namespace"},
     "Writes waiting in the database worker's queue, by namespace."},
    {"ilchatd_spooled_messages", MetricType::Gauge, {"namespace"},
     "Writes spooled to disk while the database is away and not yet replayed, by namespace."},
    {"ilchatd_deletion_rows_deleted_total", MetricType::Counter, {"table"},
     "Rows removed by the message deletion job, by table."},
    {"ilchatd_deletion_last_success_timestamp_seconds", MetricType::Gauge, {},
     "Unix time at which the message deletion job last completed without error."},
    {"ilchatd_deletion_enabled", MetricType::Gauge, {},
     "1 when the message deletion job is scheduled (deletion_mode 1), 0 when it is off."},
    {"ilchatd_deletion_next_run_timestamp_seconds", MetricType::Gauge, {},
     "Unix time of the next scheduled run of the message deletion job; 0 when it is off."},
    {"ilchatd_config_reloads_total", MetricType::Counter, {"result"}, "Configuration reloads, by result."},
    {"ilchatd_admin_commands_total", MetricType::Counter, {"result"}, "Admin socket commands run, by result."},
    {"ilchatd_build_info", MetricType::Gauge, {"version"},
     "Always 1; the version label tells which ilchatd build is running."},
    {"ilchatd_rooms", MetricType::Gauge, {"namespace"}, "Chat rooms currently known, by namespace."},
    {"ilchatd_conversations", MetricType::Gauge, {"namespace"},
     "On-Screen Chat conversations currently held in memory, by namespace."},
    {"ilchatd_cluster_up", MetricType::Gauge, {},
     "Cluster mode: 1 while this node is connected to Redis and caught up with the change streams, else 0."},
    {"ilchatd_cluster_nodes", MetricType::Gauge, {}, "Cluster mode: nodes this node sees alive, itself included."},
    {"ilchatd_cluster_records_total", MetricType::Counter, {"direction"},
     "Cluster mode: changes this node appended to the streams (published) or applied from them (applied)."},
    {"ilchatd_cluster_publish_queue", MetricType::Gauge, {},
     "Cluster mode: changes of this node waiting to be appended to Redis (grows while Redis is away)."},
    {"ilchatd_cluster_lease_held", MetricType::Gauge, {"lease"},
     "Cluster mode: 1 while this node holds the lease of a once-per-cluster job (deletion, preferences, snapshot)."},
};

// Accessors name their metric; a typo stops the build here instead of failing at run time.
consteval std::size_t index_of(std::string_view name) {
    for (std::size_t i = 0; i < std::size(definitions); ++i)
        if (definitions[i].name == name) return i;
    throw std::logic_error("metric not in the table");
}

constexpr std::pair<MetricType, std::string_view> type_names[] = {
    {MetricType::Counter, "counter"},
    {MetricType::Gauge, "gauge"},
    {MetricType::Histogram, "histogram"},
};

template <MetricType>
struct Kind;
template <>
struct Kind<MetricType::Counter> {
    using Metric = prometheus::Counter;
    static constexpr auto build = &prometheus::BuildCounter;
};
template <>
struct Kind<MetricType::Gauge> {
    using Metric = prometheus::Gauge;
    static constexpr auto build = &prometheus::BuildGauge;
};
template <>
struct Kind<MetricType::Histogram> {
    using Metric = prometheus::Histogram;
    static constexpr auto build = &prometheus::BuildHistogram;
};

// /backend routes answer from memory and statements are short, so the buckets start at half a
// millisecond; the top ones are there to show a database that hangs.
const prometheus::Histogram::BucketBoundaries& latency_buckets() {
    static const prometheus::Histogram::BucketBoundaries buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                    0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    return buckets;
}

template <std::size_t index, typename Families>
void register_family(Families& families, prometheus::Registry& registry) {
    constexpr MetricType type = definitions[index].type;
    auto& family = Kind<type>::build()
                       .Name(std::string(definitions[index].name))
                       .Help(std::string(definitions[index].help))
                       .Register(registry);
    families.emplace_back(&family);
    // A counter without labels is there from the start at 0, so increase() sees its first step.
    if constexpr (type == MetricType::Counter && definitions[index].label_count() == 0) family.Add({});
}

template <typename Families, std::size_t... index>
void register_all(Families& families, prometheus::Registry& registry, std::index_sequence<index...>) {
    (register_family<index>(families, registry), ...);
}

// One value per thing: a namespace is named as in client.cfg ("onscreen", "onscreen-im"), whether
// the caller holds the socket.io name ("/onscreen") or the client name; "/" itself is "main".
std::string_view label_value(std::string_view label, std::string_view value) {
    if (label != "namespace" || !value.starts_with('/')) return value;
    return value.size() == 1 ? std::string_view("main") : value.substr(1);
}

template <std::size_t index, typename Families, typename... Values>
auto& metric(const Families& families, Values... values) {
    static_assert(definitions[index].label_count() == sizeof...(Values), "one value per label of the table");
    using Metric = typename Kind<definitions[index].type>::Metric;

    prometheus::Labels labels;
    std::size_t label = 0;
    [[maybe_unused]] auto add = [&](std::string_view value) {
        labels.emplace(definitions[index].labels[label], label_value(definitions[index].labels[label], value));
        ++label;
    };
    (add(values), ...);
    auto* family = std::get<prometheus::Family<Metric>*>(families[index]);
    if constexpr (std::is_same_v<Metric, prometheus::Histogram>)
        return family->Add(labels, latency_buckets());
    else
        return family->Add(labels);
}

std::string markdown_labels(const Definition& definition) {
    std::string text;
    for (const char* label : definition.labels) {
        if (!label) continue;
        if (!text.empty()) text += ", ";
        text += "`" + std::string(label) + "`";
    }
    return text;
}

}  // namespace

Metrics::Metrics() {
    families_.reserve(std::size(definitions));
    register_all(families_, registry_, std::make_index_sequence<std::size(definitions)>());
    metric<index_of("ilchatd_build_info")>(families_, ilchat::version).Set(1);
}

prometheus::Gauge& Metrics::connections(std::string_view nsp, std::string_view transport) {
    return metric<index_of("ilchatd_connections")>(families_, nsp, transport);
}

prometheus::Gauge& Metrics::engineio_sessions(std::string_view transport) {
    return metric<index_of("ilchatd_engineio_sessions")>(families_, transport);
}

prometheus::Counter& Metrics::handshakes(std::string_view transport) {
    return metric<index_of("ilchatd_handshakes_total")>(families_, transport);
}

prometheus::Counter& Metrics::handshake_failures(std::string_view reason) {
    return metric<index_of("ilchatd_handshake_failures_total")>(families_, reason);
}

prometheus::Counter& Metrics::disconnects(std::string_view reason) {
    return metric<index_of("ilchatd_disconnects_total")>(families_, reason);
}

prometheus::Counter& Metrics::packets_received(std::string_view nsp) {
    return metric<index_of("ilchatd_socketio_packets_received_total")>(families_, nsp);
}

prometheus::Counter& Metrics::packets_sent(std::string_view nsp) {
    return metric<index_of("ilchatd_socketio_packets_sent_total")>(families_, nsp);
}

prometheus::Counter& Metrics::chat_messages(std::string_view kind) {
    return metric<index_of("ilchatd_chat_messages_total")>(families_, kind);
}

prometheus::Counter& Metrics::bytes_sent() {
    return metric<index_of("ilchatd_bytes_sent_total")>(families_);
}

prometheus::Counter& Metrics::slow_consumer_disconnects() {
    return metric<index_of("ilchatd_slow_consumer_disconnects_total")>(families_);
}

prometheus::Counter& Metrics::ignored_events(std::string_view nsp, std::string_view reason) {
    return metric<index_of("ilchatd_ignored_events_total")>(families_, nsp, reason);
}

prometheus::Counter& Metrics::backend_requests(std::string_view route, std::string_view result) {
    return metric<index_of("ilchatd_backend_requests_total")>(families_, route, result);
}

prometheus::Histogram& Metrics::backend_request_duration_seconds(std::string_view route) {
    return metric<index_of("ilchatd_backend_request_duration_seconds")>(families_, route);
}

prometheus::Histogram& Metrics::db_query_duration_seconds(std::string_view op) {
    return metric<index_of("ilchatd_db_query_duration_seconds")>(families_, op);
}

prometheus::Counter& Metrics::db_errors(std::string_view nsp) {
    return metric<index_of("ilchatd_db_errors_total")>(families_, nsp);
}

prometheus::Counter& Metrics::db_reconnects(std::string_view nsp) {
    return metric<index_of("ilchatd_db_reconnects_total")>(families_, nsp);
}

prometheus::Gauge& Metrics::db_up(std::string_view nsp) {
    return metric<index_of("ilchatd_db_up")>(families_, nsp);
}

prometheus::Gauge& Metrics::db_write_queue_depth(std::string_view nsp) {
    return metric<index_of("ilchatd_db_write_queue_depth")>(families_, nsp);
}

prometheus::Gauge& Metrics::spooled_messages(std::string_view nsp) {
    return metric<index_of("ilchatd_spooled_messages")>(families_, nsp);
}

prometheus::Counter& Metrics::deletion_rows_deleted(std::string_view table) {
    return metric<index_of("ilchatd_deletion_rows_deleted_total")>(families_, table);
}

prometheus::Gauge& Metrics::deletion_last_success_timestamp_seconds() {
    return metric<index_of("ilchatd_deletion_last_success_timestamp_seconds")>(families_);
}

prometheus::Gauge& Metrics::deletion_enabled() { return metric<index_of("ilchatd_deletion_enabled")>(families_); }

prometheus::Gauge& Metrics::deletion_next_run_timestamp_seconds() {
    return metric<index_of("ilchatd_deletion_next_run_timestamp_seconds")>(families_);
}

prometheus::Counter& Metrics::config_reloads(std::string_view result) {
    return metric<index_of("ilchatd_config_reloads_total")>(families_, result);
}

prometheus::Counter& Metrics::admin_commands(std::string_view result) {
    return metric<index_of("ilchatd_admin_commands_total")>(families_, result);
}

prometheus::Gauge& Metrics::rooms(std::string_view nsp) {
    return metric<index_of("ilchatd_rooms")>(families_, nsp);
}

prometheus::Gauge& Metrics::conversations(std::string_view nsp) {
    return metric<index_of("ilchatd_conversations")>(families_, nsp);
}

prometheus::Gauge& Metrics::cluster_up() { return metric<index_of("ilchatd_cluster_up")>(families_); }

prometheus::Gauge& Metrics::cluster_nodes() { return metric<index_of("ilchatd_cluster_nodes")>(families_); }

prometheus::Counter& Metrics::cluster_records(std::string_view direction) {
    return metric<index_of("ilchatd_cluster_records_total")>(families_, direction);
}

prometheus::Gauge& Metrics::cluster_publish_queue() {
    return metric<index_of("ilchatd_cluster_publish_queue")>(families_);
}

prometheus::Gauge& Metrics::cluster_lease_held(std::string_view lease) {
    return metric<index_of("ilchatd_cluster_lease_held")>(families_, lease);
}

std::vector<prometheus::MetricFamily> Metrics::collect() const {
    std::vector<prometheus::MetricFamily> collected = registry_.Collect();
    std::vector<prometheus::MetricFamily> families;
    families.reserve(std::size(definitions));
    // prometheus-cpp leaves out a family that has no label set yet; an operator reading the
    // scrape should still find every metric with its help.
    for (const Definition& definition : definitions) {
        auto found = std::ranges::find(collected, definition.name, &prometheus::MetricFamily::name);
        if (found != collected.end())
            families.push_back(std::move(*found));
        else
            families.push_back({std::string(definition.name), std::string(definition.help), definition.type, {}});
    }
    append_process_metrics(families);
    return families;
}

std::string Metrics::render() const { return prometheus::TextSerializer().Serialize(collect()); }

std::string Metrics::render_json() const {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    const auto sample = [&w](const std::string& name, const prometheus::ClientMetric& metric, double value) {
        w.StartObject();
        w.Key("name");
        w.String(name.c_str());
        w.Key("labels");
        w.StartObject();
        for (const auto& label : metric.label) {
            w.Key(label.name.c_str());
            w.String(label.value.c_str());
        }
        w.EndObject();
        w.Key("value");
        w.Double(value);
        w.EndObject();
    };
    w.StartObject();
    w.Key("samples");
    w.StartArray();
    for (const auto& family : collect()) {
        for (const auto& metric : family.metric) {
            switch (family.type) {
                case MetricType::Counter: sample(family.name, metric, metric.counter.value); break;
                case MetricType::Gauge: sample(family.name, metric, metric.gauge.value); break;
                case MetricType::Untyped: sample(family.name, metric, metric.untyped.value); break;
                case MetricType::Histogram:
                    sample(family.name + "_count", metric, static_cast<double>(metric.histogram.sample_count));
                    sample(family.name + "_sum", metric, metric.histogram.sample_sum);
                    break;
                case MetricType::Summary:
                    sample(family.name + "_count", metric, static_cast<double>(metric.summary.sample_count));
                    sample(family.name + "_sum", metric, metric.summary.sample_sum);
                    break;
            }
        }
    }
    w.EndArray();
    w.EndObject();
    return buffer.GetString();
}

std::string Metrics::reference_markdown() {
    std::string text = "| Name | Type | Labels | Help |\n|---|---|---|---|\n";
    for (const Definition& definition : definitions) {
        auto type = std::ranges::find(type_names, definition.type, &std::pair<MetricType, std::string_view>::first);
        text += "| `" + std::string(definition.name) + "` | " + std::string(type->second) + " | " +
                markdown_labels(definition) + " | " + std::string(definition.help) + " |\n";
    }
    return text;
}

}  // namespace ilchat::metrics
