#include "tests/bench/loadgen/report.h"

#include <algorithm>
#include <cstdio>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ilchat::loadgen {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

double per_second(double count, double seconds) { return seconds > 0 ? count / seconds : 0.0; }

int registered_count(const Run& run) {
    return static_cast<int>(std::count(run.registration.registered.begin(), run.registration.registered.end(), 1));
}

int sender_count(const Options& o) { return o.senders == 0 ? o.clients : o.senders; }

std::string format(const char* pattern, auto... values) {
    char line[512];
    std::snprintf(line, sizeof line, pattern, values...);
    return line;
}

std::string milliseconds(std::uint64_t us) { return format("%.2f ms", static_cast<double>(us) / 1000.0); }

void percentiles(Writer& w, const Histogram& h) {
    w.StartObject();
    w.Key("count");
    w.Uint64(h.count());
    w.Key("mean");
    w.Double(h.mean());
    w.Key("p50");
    w.Uint64(h.percentile(0.50));
    w.Key("p90");
    w.Uint64(h.percentile(0.90));
    w.Key("p99");
    w.Uint64(h.percentile(0.99));
    w.Key("p999");
    w.Uint64(h.percentile(0.999));
    w.Key("max");
    w.Uint64(h.max());
    w.EndObject();
}

}  // namespace

bool run_ok(const Run& run) {
    const Figures& f = run.figures;
    return f.clients_connected == run.options.clients && f.clients_lost == 0 && run.errors.total() == 0 &&
           f.deliveries_missing == 0;
}

std::string summary_text(const Run& run) {
    const Options& o = run.options;
    const Figures& f = run.figures;
    std::string text = format("ilchat-loadgen: %d clients on %s:%d /%s%s, %d rooms, %d senders\n", o.clients,
                              o.host.c_str(), o.port, o.name.c_str(), o.im ? " and -im" : "", o.rooms, sender_count(o));
    text += format("  register  %d of %d users, %llu backend calls in %.2f s\n", registered_count(run), o.clients,
                   static_cast<unsigned long long>(run.registration.requests), run.registration.seconds);
    text += format("  connect   %d of %d ready in %.2f s (%.0f/s), %d lost later; "
                   "time to ready p50 %s, p99 %s, max %s\n",
                   f.clients_connected, o.clients, f.connect_seconds,
                   per_second(f.clients_connected, f.connect_seconds), f.clients_lost,
                   milliseconds(f.connect_us.percentile(0.5)).c_str(),
                   milliseconds(f.connect_us.percentile(0.99)).c_str(), milliseconds(f.connect_us.max()).c_str());
    if (f.clients_connected > 0)
        text += format("  settle    %.2f s until the room entries' traffic died down\n", f.settle_seconds);
    if (f.steady_seconds > 0) {
        text += format("  steady    %llu messages in %.2f s (%.1f/s); %llu of %llu deliveries, %llu missing, "
                       "%llu foreign; %.0f deliveries/s\n",
                       static_cast<unsigned long long>(f.messages_sent), f.steady_seconds,
                       per_second(static_cast<double>(f.messages_sent), f.steady_seconds),
                       static_cast<unsigned long long>(f.deliveries),
                       static_cast<unsigned long long>(f.deliveries_expected),
                       static_cast<unsigned long long>(f.deliveries_missing),
                       static_cast<unsigned long long>(f.deliveries_foreign),
                       per_second(static_cast<double>(f.window_deliveries), f.delivery_seconds));
        const Histogram& l = f.latency_us;
        text += "  latency   p50 " + milliseconds(l.percentile(0.5)) + ", p90 " + milliseconds(l.percentile(0.9)) +
                ", p99 " + milliseconds(l.percentile(0.99)) + ", p99.9 " + milliseconds(l.percentile(0.999)) +
                ", max " + milliseconds(l.max()) +
                format(" (%llu deliveries)\n", static_cast<unsigned long long>(l.count()));
        text += "  own lag   p99 " + milliseconds(f.loop_lag_us.percentile(0.99)) + ", max " +
                milliseconds(f.loop_lag_us.max()) + " (the generator's 1 ms timer; large values: it was busy)\n";
    }
    if (f.hold_seconds > 0) text += format("  hold      %.1f s\n", f.hold_seconds);
    if (run.errors.total() == 0) text += "  errors    none\n";
    for (const auto& [kind, count] : run.errors.counts())
        text += format("  error     %s x %llu, first: ", kind.c_str(), static_cast<unsigned long long>(count)) +
                run.errors.first_detail(kind) + "\n";
    text += format("  result    %s after %.1f s\n", run_ok(run) ? "OK" : "FAILED", run.duration_seconds);
    return text;
}

std::string json_line(const Run& run) {
    const Options& o = run.options;
    const Figures& f = run.figures;
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    w.Key("tool");
    w.String("ilchat-loadgen");
    w.Key("ok");
    w.Bool(run_ok(run));
    w.Key("host");
    w.String(o.host.c_str());
    w.Key("port");
    w.Int(o.port);
    w.Key("namespace");
    w.String(o.name.c_str());
    w.Key("im");
    w.Bool(o.im);
    w.Key("rooms");
    w.Int(o.rooms);
    w.Key("senders");
    w.Int(sender_count(o));
    w.Key("room_id_base");
    w.Int64(o.room_id_base);
    w.Key("user_id_base");
    w.Int64(o.user_id_base);
    w.Key("source_addresses");
    w.Uint64(o.source_addresses.size());

    w.Key("clients_requested");
    w.Int(o.clients);
    w.Key("clients_registered");
    w.Int(registered_count(run));
    w.Key("clients_connected");
    w.Int(f.clients_connected);
    w.Key("clients_lost");
    w.Int(f.clients_lost);
    w.Key("register_seconds");
    w.Double(run.registration.seconds);
    w.Key("backend_requests");
    w.Uint64(run.registration.requests);
    w.Key("connect_seconds");
    w.Double(f.connect_seconds);
    w.Key("connect_rate");
    w.Double(per_second(f.clients_connected, f.connect_seconds));
    w.Key("connect_time_us");
    percentiles(w, f.connect_us);

    w.Key("settle_seconds");
    w.Double(f.settle_seconds);

    w.Key("rate_requested");
    w.Double(o.rate);
    w.Key("steady_seconds");
    w.Double(f.steady_seconds);
    w.Key("messages_sent");
    w.Uint64(f.messages_sent);
    w.Key("message_rate");
    w.Double(per_second(static_cast<double>(f.messages_sent), f.steady_seconds));
    w.Key("deliveries");
    w.Uint64(f.deliveries);
    w.Key("deliveries_expected");
    w.Uint64(f.deliveries_expected);
    w.Key("deliveries_missing");
    w.Uint64(f.deliveries_missing);
    w.Key("deliveries_foreign");
    w.Uint64(f.deliveries_foreign);
    w.Key("deliveries_per_second");
    w.Double(per_second(static_cast<double>(f.window_deliveries), f.delivery_seconds));
    w.Key("latency_us");
    percentiles(w, f.latency_us);
    w.Key("loop_lag_us");
    percentiles(w, f.loop_lag_us);
    w.Key("hold_seconds");
    w.Double(f.hold_seconds);

    w.Key("error_count");
    w.Uint64(run.errors.total());
    w.Key("errors");
    w.StartObject();
    for (const auto& [kind, count] : run.errors.counts()) {
        w.Key(kind.c_str());
        w.Uint64(count);
    }
    w.EndObject();
    w.Key("duration_seconds");
    w.Double(run.duration_seconds);
    w.EndObject();
    return buffer.GetString();
}

}  // namespace ilchat::loadgen
