// exercises/exercise.h — the graded exercises: the ops you write, and the grader that checks them.
//
// Each exercise is a copy of one op or layer of the library with one body left blank: its backward, or (for
// scaled_dot_product_attention) its forward. You fill it in exercises/<name>.cpp, and `make exercise EX=<name>`
// builds that file with its cases (exercises/checks/<name>.cpp) and the grader (exercises/grade.cpp) and grades:
//   forward   your output against the library's own, element by element:
//             |yours - library| ≤ 1e-12 + 1e-9 · max(|yours|, |library|)
//   backward  the gradient check the library's own ops pass (autodiff/gradcheck.h): the gradient your backward
//             puts on the tape against central differences, in double precision, relative error ≤ 1e-6
// over hand-picked shapes (square ones, a single query step, a row hidden entirely by the mask) and shapes drawn
// from a seeded generator, with masks where the op has one,, and once more with the inputs used
// twice, yours(x) + 2 · yours(x), which only a backward that ADDS (+=) into its inputs' gradients passes.
// For every input the grader prints the worst element, analytic against numeric, and what the error looks
// like (all zero, a constant factor, transposed, wrong only under a mask, ...) with the exercise's hints.
// The reference solutions are exercises/solutions/<name>.cpp: the same file with the blank filled in.
//
// Your functions live in namespace s2a::exercise, so they do not collide with the library's of the same name.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tape.h"
#include "nn/lstm.h"

namespace s2a::exercise {

// ---------------------------------------------------------------- the ops you write (one file each)

// masked_softmax.cpp — x (..., n), mask the shape of x (1 keep, 0 hide) → softmax over the last axis (..., n).
Var masked_softmax(const Var& x, const Tensor& mask);

// weight_sum.cpp — a (B, Tq, S), hs (B, S, H) → c (B, Tq, H),  c[b, t] = Σₛ a[b, t, s] hs[b, s].
Var weight_sum(const Var& a, const Var& hs);

// attention_weight_dot.cpp — q (B, Tq, H), hs (B, S, H), mask (B, S) → a (B, Tq, S) = softmax(q hsᵀ, mask).
Var attention_weight_dot(const Var& q, const Var& hs, const Tensor& mask);

// attention_weight_additive.cpp — the additive scores e[b, t, s] = v · tanh(qW1[b, t] + kW2[b, s]):
// qW1 (B, Tq, A), kW2 (B, S, A), v (A) → e (B, Tq, S); and the layer around them:
// q (B, Tq, Hq), hs (B, S, Hk), W1 (Hq, A), W2 (Hk, A), v (A), mask (B, S) → a (B, Tq, S).
Var additive_scores(const Var& qW1, const Var& kW2, const Var& v);
Var attention_weight_additive(const Var& q, const Var& hs, const Var& W1, const Var& W2, const Var& v,
                              const Tensor& mask);

// lstm_step.cpp — the gates' pointwise math as one op: a (B, 4H), c_prev (B, H) → [h_t | c_t] (B, 2H);
// and the whole step around it: x_t (B, D), s.h and s.c (B, H), Wx (D, 4H), Wh (H, 4H), b (4H) → (h_t, c_t).
Var lstm_gates(const Var& a, const Var& c_prev);
LSTMState lstm_step(const Var& x_t, const LSTMState& s, const Var& Wx, const Var& Wh, const Var& b);

// layer_norm.cpp — x (..., D), gamma (D), beta (D) → (x - mean) / √(var + eps) · gamma + beta (..., D).
Var layer_norm(const Var& x, const Var& gamma, const Var& beta, Real eps = 1e-5);

// scaled_dot_product_attention.cpp — q (B, h, Tq, dk), k (B, h, Tk, dk), v (B, h, Tk, dv), mask broadcastable
// to (B, h, Tq, Tk) or nullptr → softmax(q kᵀ / √dk, mask) v (B, h, Tq, dv).
Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor* mask);

// ---------------------------------------------------------------- the grader

using Fn = std::function<Var(const std::vector<Var>&)>;

// One graded case: seeded random inputs, your op on them, and the library's own on the same inputs.
struct Case {
    std::string what;         // what is special about it, e.g. "row 0 all padding"; "" for nothing
    std::vector<Var> inputs;  // parameters named as in the exercise's formulas ("q", "hs", ...)
    Fn yours;                 // your op on the inputs
    Fn library;               // the library's, with the same output shape
    bool masked = false;      // some positions are hidden by a mask
    bool twice = false;       // yours(x) + 2 · yours(x) (the grader adds this case itself)
};

struct Exercise {
    std::string name;     // "masked_softmax": exercises/<name>.cpp, make exercise EX=<name>
    std::string lesson;   // the lesson that derives it, e.g. "docs/ch0_tape.md"
    std::string library;  // where the library implements it, e.g. "softmax in autodiff/ops_nn.cpp"
    std::string blank;    // the body you write: "backward" or "forward"
    std::vector<Case> cases;
    // The math and the usual mistakes, per input name (the gradient of that input), or "forward".
    std::vector<std::pair<std::string, std::string>> hints;
};

// The one exercise a grading program holds: defined in exercises/checks/<name>.cpp.
Exercise the_exercise();

struct Grade {
    bool pass = false;
    double worst_rel = 0;  // the largest relative error of any case: forward or gradient
    std::string report;    // every case, per input the worst element, then the hints
    std::string row;       // one line for the table of `make exercises`: name, pass/FAIL, worst_rel
};

// Grades every case of ex, plus ex.cases[0] (the first masked one if any) with its inputs used twice.
// Exceptions from your code are caught and reported as a failed case.
Grade grade(const Exercise& ex);

// ---------------------------------------------------------------- helpers for the cases

// A parameter (an input gradients are checked for) of N(0, 1) values.
Var random_input(const std::string& name, const Shape& s, Rng& rng);
// A mask (1 keep, 0 hide) of shape s: about a third hidden at random, and the first row (along the last axis)
// hidden entirely, the case that must give zeros and not 0/0.
Tensor random_mask(const Shape& s, Rng& rng);

}  // namespace s2a::exercise
