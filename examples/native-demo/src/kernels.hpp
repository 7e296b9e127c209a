// Templates that every unit instantiates with its own types and parameters. They do a bit of
// real work (sorting, maps, strings, a small dynamic-programming pass) so that each
// translation unit costs a realistic fraction of a second to compile.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace demo {

// A small deterministic generator (xorshift), so results do not depend on <random>.
struct Rng {
    std::uint64_t state;
    explicit Rng(std::uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ULL + 1) {}
    std::uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
};

template <typename T>
std::vector<T> make_values(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<T> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(static_cast<T>(rng.next() % 1000));
    }
    return out;
}

template <typename T>
long sorted_signature(std::vector<T> values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    long sig = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        sig += static_cast<long>(values[i]) * static_cast<long>(i % 7 + 1);
    }
    return sig % 100003;
}

template <typename T, typename Compare>
long top_k(const std::vector<T>& values, std::size_t k, Compare cmp) {
    std::vector<T> copy(values);
    k = std::min(k, copy.size());
    std::partial_sort(copy.begin(), copy.begin() + static_cast<long>(k), copy.end(), cmp);
    return static_cast<long>(std::accumulate(copy.begin(), copy.begin() + static_cast<long>(k), T{}));
}

template <typename Key, typename T>
long histogram(const std::vector<T>& values, Key bucket_width) {
    std::map<Key, std::vector<T>> buckets;
    for (const T& v : values) {
        buckets[static_cast<Key>(v) / bucket_width].push_back(v);
    }
    long acc = 0;
    for (const auto& [key, items] : buckets) {
        auto mm = std::minmax_element(items.begin(), items.end());
        acc += static_cast<long>(key) * static_cast<long>(items.size());
        acc += static_cast<long>(*mm.second - *mm.first);
    }
    return acc % 100003;
}

template <typename T>
long word_counts(const std::vector<T>& values) {
    std::unordered_map<std::string, int> counts;
    for (const T& v : values) {
        std::string word = std::to_string(static_cast<long>(v) % 37);
        word += static_cast<char>('a' + static_cast<long>(v) % 26);
        ++counts[word];
    }
    std::vector<std::pair<std::string, int>> items(counts.begin(), counts.end());
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    long acc = 0;
    for (std::size_t i = 0; i < items.size() && i < 5; ++i) {
        acc += static_cast<long>(items[i].first.size()) * items[i].second;
    }
    return acc;
}

// Longest increasing subsequence, O(n log n).
template <typename T>
long lis_length(const std::vector<T>& values) {
    std::vector<T> tails;
    for (const T& v : values) {
        auto it = std::lower_bound(tails.begin(), tails.end(), v);
        if (it == tails.end()) {
            tails.push_back(v);
        } else {
            *it = v;
        }
    }
    return static_cast<long>(tails.size());
}

template <typename T, typename Fn>
long transform_reduce_with(const std::vector<T>& values, Fn fn) {
    std::vector<long> mapped(values.size());
    std::transform(values.begin(), values.end(), mapped.begin(),
                   [&](const T& v) { return static_cast<long>(fn(v)); });
    std::sort(mapped.begin(), mapped.end(), std::greater<long>());
    return std::accumulate(mapped.begin(), mapped.end(), 0L) % 100003;
}

}  // namespace demo
