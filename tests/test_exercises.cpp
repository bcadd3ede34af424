// tests/test_exercises.cpp — the graded exercises (exercises/): every reference solution passes its grader, every
// untouched blank fails with its per-input report and hints (and never crashes), and the grader names planted
// mistakes: a backward that assigns (=) where it must add (+=), a constant factor, a missing transpose, an
// ignored mask, an op that throws.
// The grading programs are the ones built in this test binary's own variant (S2A_BUILD_DIR, set by the Makefile).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "autodiff/ops.h"
#include "exercises/exercise.h"
#include "tests/run_program.h"

using namespace s2a;
using exercise::Case;
using exercise::Exercise;

namespace {

// The names the lessons link to (exercises/<name>.cpp, make exercise EX=<name>).
const std::vector<std::string> kExercises = {"masked_softmax", "weight_sum", "attention_weight_dot", "attention_weight_additive",
                                             "lstm_step", "layer_norm", "scaled_dot_product_attention"};

// y = x ⊙ x on a (3, 4) input, with a backward you pass in: dx += backward(x, dy) (or = when assign).
Var square(const Var& x, bool assign, Real factor) {
    Tensor y(x.shape());
    for (int64_t i = 0; i < y.numel(); ++i) y[i] = x.value()[i] * x.value()[i];
    return record("square", std::move(y), {x}, [x, assign, factor](Node& out) {
        for (int64_t i = 0; i < out.grad.numel(); ++i) {
            const Real d = factor * x.value()[i] * out.grad[i];  // right when factor = 2
            x.grad()[i] = assign ? d : x.grad()[i] + d;
        }
    });
}

// An exercise of one op: two cases of x (3, 4), graded against x ⊙ x.
Exercise planted(const exercise::Fn& yours) {
    Exercise ex{"planted", "docs/none.md", "x ⊙ x", "backward", {}, {{"x", "dx = 2 x ⊙ dy"}}};
    Rng rng(3);
    for (int k = 0; k < 2; ++k)
        ex.cases.push_back({"", {exercise::random_input("x", Shape{3, 4}, rng)}, yours,
                            [](const std::vector<Var>& in) { return in[0] * in[0]; }});
    return ex;
}

}  // namespace

TEST_CASE("exercises: every reference solution passes its grader") {
    for (const std::string& name : kExercises) {
        const Run r = check_run("solution_" + name, "", 0, {"PASS: all", "worst relative error"});
        CHECK_FALSE(has(r.output, "FAIL"));
    }
}

TEST_CASE("exercises: every untouched blank fails with a per-input report and hints, never crashes") {
    for (const std::string& name : kExercises) {
        const bool forward = name == "scaled_dot_product_attention";  // the one forward blank
        check_run("exercise_" + name, "", 1,
                  {"FAIL", "worst", forward ? "yours 0  library" : "analytic 0  numeric",  // per input: the worst element
                   "it is all zero: is the TODO still blank?", "hints:", forward ? "forward   softmax(q kᵀ / √dk" : "  d",
                   ("exercises/solutions/" + name + ".cpp").c_str()});
    }
}

TEST_CASE("exercises: --summary prints one row; anything else is a usage error") {
    const Run pass = check_run("solution_layer_norm", "--summary", 0, {"layer_norm", "pass"});
    CHECK(std::count(pass.output.begin(), pass.output.end(), '\n') == 1);
    check_run("exercise_layer_norm", "--summary", 1, {"layer_norm", "FAIL", "1.0e+00"});
    check_run("exercise_layer_norm", "--bogus", 2, {"usage"});
}

TEST_CASE("exercises: the grader passes a right op and names planted mistakes") {
    const exercise::Grade right = exercise::grade(planted([](const std::vector<Var>& in) { return square(in[0], false, 2); }));
    INFO(right.report);
    CHECK(right.pass);
    CHECK(right.worst_rel < 1e-6);

    // = instead of +=: right alone, wrong when x is used twice (one use's gradient overwritten).
    const exercise::Grade assign = exercise::grade(planted([](const std::vector<Var>& in) { return square(in[0], true, 2); }));
    INFO(assign.report);
    CHECK_FALSE(assign.pass);
    CHECK(has(assign.report, "case 1  x (3, 4)\n  forward   pass"));
    CHECK(has(assign.report, "of the truth: of the input's two uses"));
    CHECK(has(assign.report, "every case passes once and fails only with its inputs used twice"));
    CHECK(has(assign.report, "dx        dx = 2 x ⊙ dy"));  // the exercise's hint for the failing input

    const exercise::Grade half = exercise::grade(planted([](const std::vector<Var>& in) { return square(in[0], false, 1); }));
    INFO(half.report);
    CHECK_FALSE(half.pass);
    CHECK(has(half.report, "it is exactly 0.5 × the truth"));

    const exercise::Grade flipped = exercise::grade(planted([](const std::vector<Var>& in) { return square(in[0], false, -2); }));
    CHECK(has(flipped.report, "a sign is flipped"));

    const exercise::Grade throws = exercise::grade(planted([](const std::vector<Var>& in) -> Var {
        return record("throws", in[0].value(), {in[0]}, [](Node&) { throw std::runtime_error("planted failure"); });
    }));
    CHECK_FALSE(throws.pass);
    CHECK(has(throws.report, "your op threw: planted failure"));
}

TEST_CASE("exercises: the grader recognises a missing transpose and an ignored mask") {
    Rng rng(4);
    // y = X · c for a square X (n, n) and a constant c (n): dX[i, j] = dy[i] c[j]. The planted backward swaps i, j.
    const int n = 4;
    const Tensor c = randn(Shape{n}, rng);
    Exercise transposed{"transposed", "docs/none.md", "X · c", "backward", {}, {}};
    transposed.cases.push_back(
        {"", {exercise::random_input("X", Shape{n, n}, rng)},
         [c, n](const std::vector<Var>& in) {
             const Var X = in[0];
             Tensor y(Shape{n});  // y[i] = Σⱼ X[i, j] c[j]
             for (int i = 0; i < n; ++i)
                 for (int j = 0; j < n; ++j) y[i] += X.value()[int64_t(i) * n + j] * c[j];
             return record("transposed", std::move(y), {X}, [X, c, n](Node& out) {
                 for (int i = 0; i < n; ++i)
                     for (int j = 0; j < n; ++j) X.grad()[int64_t(i) * n + j] += out.grad[j] * c[i];  // wrong: dy[i] c[j]
             });
         },
         [c, n](const std::vector<Var>& in) {
             Tensor column = c;
             column.shape = Shape{n, 1};
             return reshape(matmul(in[0], constant(column)), Shape{n});
         }});
    const exercise::Grade t = exercise::grade(transposed);
    INFO(t.report);
    CHECK_FALSE(t.pass);
    CHECK(has(t.report, "a missing transpose"));

    // A softmax that ignores its mask: right on the unmasked case, wrong on the masked one.
    const Tensor mask = exercise::random_mask(Shape{3, 5}, rng);
    Exercise unmasked{"unmasked", "docs/none.md", "softmax(x, mask)", "backward", {}, {}};
    unmasked.cases.push_back({"", {exercise::random_input("x", Shape{3, 5}, rng)},
                              [](const std::vector<Var>& in) { return softmax(in[0]); },
                              [](const std::vector<Var>& in) { return softmax(in[0]); }});
    unmasked.cases.push_back({"masked", {exercise::random_input("x", Shape{3, 5}, rng)},
                              [](const std::vector<Var>& in) { return softmax(in[0]); },
                              [mask](const std::vector<Var>& in) { return softmax(in[0], mask); }, true});
    const exercise::Grade m = exercise::grade(unmasked);
    INFO(m.report);
    CHECK_FALSE(m.pass);
    CHECK(has(m.report, "only the cases with a mask fail"));
}
