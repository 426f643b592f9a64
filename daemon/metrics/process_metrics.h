#pragma once

#include <vector>

#include <prometheus/metric_family.h>

namespace ilchat::metrics {

// The standard process_* metrics of the Prometheus client libraries (same names, units and
// help), read from /proc at the moment of the scrape. A value /proc does not give is left out
// rather than reported as 0, so a dashboard shows a gap instead of a lie.
void append_process_metrics(std::vector<prometheus::MetricFamily>& families);

}  // namespace ilchat::metrics
