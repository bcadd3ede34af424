// tests/op_cases.h — the gradient-check cases of every autodiff op, and the cases of every fused kernel
// (nn/fused_*) beside its op-by-op reference with the check that holds the two together; shared by the doctest
// suite (tests/test_gradients.cpp) and the `make gradcheck` table (tests/table/gradcheck_table.cpp).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autodiff/gradcheck.h"

namespace s2a {

struct OpCase {
    std::string op;                                    // the op's name, e.g. "matmul"
    std::string variant;                               // what this case tries, e.g. "trans_b" or "bias (H)"
    std::vector<Shape> shapes;                         // one per input
    std::function<Var(const std::vector<Var>&)> f;     // the function checked
    bool positive = false;                             // inputs drawn from [0.5, 2] (log, div) instead of N(0, 1)
};

// Several seeded random shapes for each op (same cases every run).
std::vector<OpCase> op_cases();

// A fused op (one tape node, its backward by hand) and the op-by-op reference it must agree with, on the same
// inputs: check_fused gradient-checks both and compares their values.
struct FusedCase {
    OpCase fused;       // op: the fused op's name, e.g. "lstm_recurrence"
    OpCase reference;   // op: its reference's name, e.g. "lstm_cell_reference"; the same shapes as fused
    std::string where;  // the two files and the test that holds them together
    uint64_t seed = 0;  // of the inputs (case_inputs), so the table and the tests check the very same numbers
};

// Seeded random shapes for each fused op of nn/fused_*: the LSTM recurrence, multi-head attention, additive
// scores.
std::vector<FusedCase> fused_cases();

// The inputs of a case: parameters with seeded random values.
std::vector<Var> case_inputs(const OpCase& c, uint64_t seed);

// The largest difference allowed between a fused op's values and its reference's: both compute the same
// formula in double, so anything beyond rounding is a bug.
constexpr double kFusedAgree = 1e-12;

// A fused case checked: the gradient check of each side and how far apart their values are.
struct FusedCheck {
    GradcheckReport fused, reference;
    double diff = 0;  // max |fused - reference| over the values; infinity if their shapes differ
    bool agree() const { return diff <= kFusedAgree; }
};

// Gradient-checks the fused op and its reference on the inputs of fc.seed, and compares their values.
FusedCheck check_fused(const FusedCase& fc);

}  // namespace s2a
