// unit15: one of 24 translation units of native_demo._core (see kernels.hpp).
#include "kernels.hpp"
#include "units.hpp"

namespace {

constexpr std::uint64_t kSeed = 1555;
constexpr long kBump = 0;  // benchmarks/native.py adds 1 here to force a one-file rebuild

long part_a() {
    auto values = demo::make_values<unsigned long>(350, kSeed);
    long acc = demo::sorted_signature(values);
    acc += demo::top_k(values, 3, std::greater<unsigned long>());
    acc += demo::histogram<int>(values, 25);
    acc += demo::lis_length(values);
    return acc;
}

long part_b() {
    auto values = demo::make_values<long long>(255, kSeed + 1);
    long acc = demo::word_counts(values);
    acc += demo::transform_reduce_with(values, [](const long long& v) { return v * 17 + 1; });
    return acc;
}

}  // namespace

long unit15() { return part_a() + part_b() + kBump; }
