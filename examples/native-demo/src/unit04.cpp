// unit04: one of 24 translation units of native_demo._core (see kernels.hpp).
#include "kernels.hpp"
#include "units.hpp"

namespace {

constexpr std::uint64_t kSeed = 1148;
constexpr long kBump = 0;  // benchmarks/native.py adds 1 here to force a one-file rebuild

long part_a() {
    auto values = demo::make_values<double>(240, kSeed);
    long acc = demo::sorted_signature(values);
    acc += demo::top_k(values, 7, std::greater<double>());
    acc += demo::histogram<long>(values, 14);
    acc += demo::lis_length(values);
    return acc;
}

long part_b() {
    auto values = demo::make_values<float>(178, kSeed + 1);
    long acc = demo::word_counts(values);
    acc += demo::transform_reduce_with(values, [](const float& v) { return v * 6 + 1; });
    return acc;
}

}  // namespace

long unit04() { return part_a() + part_b() + kBump; }
