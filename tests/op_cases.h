// tests/op_cases.h — the gradient-check cases of every autodiff op, shared by the doctest suite
// (tests/test_gradients.cpp) and the `make gradcheck` table (tests/table/gradcheck_table.cpp).
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

// The inputs of a case: parameters with seeded random values.
std::vector<Var> case_inputs(const OpCase& c, uint64_t seed);

}  // namespace s2a
