#include "tests/bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ilchat::loadgen {

std::size_t Histogram::index_of(std::uint64_t value) {
    if (value < sub_count) return static_cast<std::size_t>(value);
    const int magnitude = std::bit_width(value) - 1;  // >= sub_bits
    const int shift = magnitude - sub_bits;
    return static_cast<std::size_t>(sub_count + static_cast<std::uint64_t>(shift) * sub_count +
                                    ((value >> shift) - sub_count));
}

std::uint64_t Histogram::upper_end(std::size_t index) {
    if (index < sub_count) return index;
    const std::uint64_t shift = (index - sub_count) / sub_count;
    const std::uint64_t step = (index - sub_count) % sub_count;
    // Unsigned wrap-around makes the topmost bucket end at UINT64_MAX.
    return ((sub_count + step + 1) << shift) - 1;
}

void Histogram::record(std::uint64_t value) {
    ++buckets_[index_of(value)];
    ++count_;
    sum_ += value;
    max_ = std::max(max_, value);
    min_ = std::min(min_, value);
}

std::uint64_t Histogram::percentile(double q) const {
    if (count_ == 0) return 0;
    const auto wanted =
        std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += buckets_[i];
        if (seen >= wanted) return std::min(upper_end(i), max_);
    }
    return max_;
}

}  // namespace ilchat::loadgen
