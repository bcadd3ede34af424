// tests/test_chapter4.cpp — chapter 4 (deep LSTM stacks, residual connections) runs end to end in --quick
// mode: the gradient-norm table, training side by side, both plots; and its own flags refuse bad values.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tests/run_program.h"

TEST_CASE("chapters: ch4 runs in quick mode") {
    const std::string out = fmt::format("/tmp/s2a_ch4_{}", getpid());
    const Run r = run("ch4", "--quick --out " + out);
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(has(r.output, "bottom/top"));          // the gradient-norm table
    CHECK(has(r.output, "3 residual"));          // a deep residual model was measured and trained
    CHECK(has(r.output, "(test exact match)"));
    CHECK(std::filesystem::exists(out + "/ch4_grad_norms.svg"));
    CHECK(std::filesystem::exists(out + "/ch4_accuracy.svg"));
    const Run bad = run("ch4", "--quick --depths 1,x --out " + out);
    CHECK(bad.status == 1);
    CHECK(has(bad.output, "'x'"));
    std::system(fmt::format("rm -rf {}", out).c_str());
}
