// kernels/cpu_isa: the builds of the CPU loops, their names, and the cap that tests and
// `bench-norm --cpu-isa` use (LNTUNE_CPU_ISA's errors are checked by tests/cli/test_cli.sh).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "cpu_isa.h"

using namespace lntune::kernels::cpu;

namespace {

// The message of the std::invalid_argument that f throws ("" when it throws none).
template <typename F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(CpuIsa, NamesReadBackAndUnknownOnesAreErrors) {
  for (CpuIsa isa : {CpuIsa::baseline, CpuIsa::avx2, CpuIsa::avx512})
    EXPECT_EQ(parse_cpu_isa(cpu_isa_name(isa), "test"), isa);
  EXPECT_EQ(invalid_argument_of([] { parse_cpu_isa("avx3", "LNTUNE_CPU_ISA=avx3"); }),
            "LNTUNE_CPU_ISA=avx3: unknown instruction set 'avx3' (baseline, avx2, avx512)");
  EXPECT_NE(invalid_argument_of([] { parse_cpu_isa("AVX2", "x"); }), "");  // names are lower case
}

TEST(CpuIsa, EveryBuildUpToTheWidestRunsAndNoneWider) {
  const auto all = available_cpu_isas();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), CpuIsa::baseline);
  EXPECT_EQ(all.back(), widest_cpu_isa());
  EXPECT_EQ(all.size(), static_cast<size_t>(widest_cpu_isa()) + 1);
  const CpuIsa was = cpu_isa_in_use();
  for (CpuIsa isa : all) {
    set_cpu_isa(isa);
    EXPECT_EQ(cpu_isa_in_use(), isa);
    EXPECT_EQ(std::string(cpu_isa()), cpu_isa_name(isa));
  }
  if (widest_cpu_isa() < CpuIsa::avx512) {
    const std::string e = invalid_argument_of([] { set_cpu_isa(CpuIsa::avx512); });
    EXPECT_NE(e.find(std::string("at most as ") + cpu_isa_name(widest_cpu_isa())), std::string::npos) << e;
    EXPECT_EQ(cpu_isa_in_use(), all.back());  // the refused cap changed nothing
  }
  set_cpu_isa(was);
}
