#pragma once

#include <array>
#include <cstdint>

namespace ilchat::loadgen {

// Counts of values (microseconds) in log-linear buckets: exact below 128, above that 128 buckets
// per power of two, so a percentile is off by less than 1 % while millions of samples cost a
// fixed 60 KB and recording is a few instructions. Max, min and sum are kept exactly.
class Histogram {
public:
    void record(std::uint64_t value);

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    std::uint64_t min() const { return count_ ? min_ : 0; }
    double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

    // The smallest value at or above which a fraction (1 - q) of the samples lie, as the upper
    // end of its bucket (never above the exact maximum). 0 without samples.
    std::uint64_t percentile(double q) const;

private:
    static constexpr int sub_bits = 7;
    static constexpr std::uint64_t sub_count = 1u << sub_bits;
    static constexpr std::size_t bucket_count = sub_count + (64 - sub_bits) * sub_count;

    static std::size_t index_of(std::uint64_t value);
    static std::uint64_t upper_end(std::size_t index);

    std::array<std::uint64_t, bucket_count> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = UINT64_MAX;
};

}  // namespace ilchat::loadgen
