// autodiff/gradcheck.h — check any function's backward against central differences, in double precision.
//
// For inputs x (Vars made with parameter()) and a function f, gradcheck compares the gradient the tape
// computes with the numerical one, element by element:
//   L(x) = Σ f(x) ⊙ r                  (r a seeded random direction: every output element matters, with
//                                       different weights, so errors cannot cancel the way they can in Σ f)
//   numeric ∂L/∂xᵢ = (L(x + h eᵢ) - L(x - h eᵢ)) / 2h       (error O(h²); h = 1e-6 by default)
// An element passes when |analytic - numeric| ≤ atol + rtol · max(|analytic|, |numeric|).
// Large inputs are checked on a seeded random sample of elements.
//
// It needs double precision (float's 7 digits cannot see a 1e-6 step): it throws in the float build.
// It uses the tape: it clears it before it starts and when it is done.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autodiff/tape.h"

namespace s2a {

struct GradcheckOptions {
    double step = 1e-6;       // h
    double rtol = 1e-6;       // relative tolerance
    double atol = 1e-8;       // absolute floor, for gradients that are (nearly) zero
    int max_elements = 256;   // per input; more than this are sampled
    uint64_t seed = 1234;     // for the direction r and the sample
};

struct GradcheckInput {
    std::string name;
    Shape shape;
    int64_t checked = 0;          // elements compared
    double max_abs = 0;           // max |analytic - numeric|
    double max_rel = 0;           // max |analytic - numeric| / max(|analytic|, |numeric|), over the elements
                                  // with max(|analytic|, |numeric|) ≥ atol / rtol (elsewhere atol decides)
    int64_t worst = -1;           // flat index of the element with the largest error relative to its tolerance
    double worst_analytic = 0, worst_numeric = 0;
    bool pass = true;
    Tensor analytic, numeric;     // both gradients in full, for a caller's own diagnosis (exercises/grade.cpp);
                                  // numeric is 0 at the elements left out of a sample
};

struct GradcheckReport {
    std::vector<GradcheckInput> inputs;
    bool pass = true;
    double max_abs = 0, max_rel = 0;  // over all inputs
    std::string str() const;          // one line per input, for printing
};

GradcheckReport gradcheck(const std::function<Var(const std::vector<Var>&)>& f, const std::vector<Var>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace s2a
