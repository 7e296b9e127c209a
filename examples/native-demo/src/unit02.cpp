// unit02: one of 24 translation units of native_demo._core (see kernels.hpp).
#include "kernels.hpp"
#include "units.hpp"

namespace {

constexpr std::uint64_t kSeed = 1074;
constexpr long kBump = 0;  // benchmarks/native.py adds 1 here to force a one-file rebuild

long part_a() {
    auto values = demo::make_values<unsigned>(220, kSeed);
    long acc = demo::sorted_signature(values);
    acc += demo::top_k(values, 5, std::greater<unsigned>());
    acc += demo::histogram<long long>(values, 12);
    acc += demo::lis_length(values);
    return acc;
}

long part_b() {
    auto values = demo::make_values<unsigned long>(164, kSeed + 1);
    long acc = demo::word_counts(values);
    acc += demo::transform_reduce_with(values, [](const unsigned long& v) { return v * 4 + 1; });
    return acc;
}

}  // namespace

long unit02() { return part_a() + part_b() + kBump; }
