// unit22: one of 24 translation units of native_demo._core (see kernels.hpp).
#include "kernels.hpp"
#include "units.hpp"

namespace {

constexpr std::uint64_t kSeed = 1814;
constexpr long kBump = 0;  // benchmarks/native.py adds 1 here to force a one-file rebuild

long part_a() {
    auto values = demo::make_values<long long>(420, kSeed);
    long acc = demo::sorted_signature(values);
    acc += demo::top_k(values, 5, std::greater<long long>());
    acc += demo::histogram<long>(values, 32);
    acc += demo::lis_length(values);
    return acc;
}

long part_b() {
    auto values = demo::make_values<short>(304, kSeed + 1);
    long acc = demo::word_counts(values);
    acc += demo::transform_reduce_with(values, [](const short& v) { return v * 24 + 1; });
    return acc;
}

}  // namespace

long unit22() { return part_a() + part_b() + kBump; }
