// tests/test_gradients.cpp — every op's backward against central differences, in double precision; and every
// fused kernel beside its op-by-op reference, both gradient-checked on the same inputs and their values compared.
// The cases (several seeded random shapes per op) live in tests/op_cases.cpp, shared with `make gradcheck`.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <string>

#include "autodiff/ops.h"
#include "tests/op_cases.h"

using namespace s2a;

namespace {

// Runs every case of one op; each failing case prints its variant and the per-input report.
int check_op(const std::string& op) {
    int seed = 0, n = 0;
    for (const OpCase& c : op_cases()) {
        ++seed;
        if (c.op != op) continue;
        const GradcheckReport r = gradcheck(c.f, case_inputs(c, seed));
        INFO(op, " [", c.variant, "]\n", r.str());
        CHECK(r.pass);
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("gradcheck: every op has cases") {
    const std::vector<std::string> ops = {"matmul", "bmm", "add", "sub", "mul", "div", "neg", "scale", "tanh",
                                          "sigmoid", "relu", "exp", "log", "sum", "mean", "reshape", "transpose",
                                          "permute", "concat", "slice", "select", "stack", "embedding", "softmax",
                                          "log_softmax", "cross_entropy", "layer_norm", "dropout"};
    for (const std::string& op : ops) {
        INFO(op);
        CHECK(check_op(op) >= 2);
    }
}

TEST_CASE("gradcheck: every fused op and its op-by-op reference pass on the same inputs and agree") {
    std::map<std::string, int> cases_of;  // fused op → its number of cases
    for (const FusedCase& fc : fused_cases()) {
        const FusedCheck r = check_fused(fc);
        INFO(fc.fused.op, " ↔ ", fc.reference.op, " [", fc.fused.variant, "]: values differ by ", r.diff, "\n",
             "fused:\n", r.fused.str(), "reference:\n", r.reference.str());
        CHECK(r.fused.pass);
        CHECK(r.reference.pass);
        CHECK(r.diff <= kFusedAgree);
        ++cases_of[fc.fused.op];
    }
    for (const char* op : {"lstm_recurrence", "multi_head_attention", "additive_scores", "linear_relu", "linear_residual"}) {
        INFO(op);
        CHECK(cases_of[op] >= 2);
    }
}

TEST_CASE("gradcheck: catches a wrong backward") {
    // tanh with a deliberately wrong derivative: 1 - y instead of 1 - y².
    auto wrong_tanh = [](const std::vector<Var>& x) {
        Tensor y(x[0].shape());
        for (int64_t i = 0; i < y.numel(); ++i) y[i] = std::tanh(x[0].value()[i]);
        Var in = x[0];
        return record("wrong_tanh", std::move(y), {in}, [in](Node& out) {
            for (int64_t i = 0; i < out.grad.numel(); ++i) in.grad()[i] += out.grad[i] * (1 - out.value[i]);
        });
    };
    Rng rng(5);
    const GradcheckReport r = gradcheck(wrong_tanh, {parameter(randn(Shape{3, 4}, rng), "x")});
    CHECK_FALSE(r.pass);
    CHECK(r.max_rel > 1e-2);
    CHECK(r.str().find("FAIL") != std::string::npos);

    // A backward that forgets to accumulate (= instead of +=) is caught when the input is used twice.
    auto overwriting_square = [](const std::vector<Var>& x) {
        Var a = x[0];
        auto op = [](const Var& in) {
            Tensor y = in.value();
            return record("copy", std::move(y), {in}, [in](Node& out) {
                for (int64_t i = 0; i < out.grad.numel(); ++i) in.grad()[i] = out.grad[i];  // wrong: must be +=
            });
        };
        return op(a) * op(a);
    };
    CHECK_FALSE(gradcheck(overwriting_square, {parameter(randn(Shape{2, 3}, rng), "x")}).pass);
}

TEST_CASE("gradcheck: report names inputs and samples large ones") {
    Rng rng(6);
    Var w = parameter(randn(Shape{40, 30}, rng), "W");
    Var x = parameter(randn(Shape{5, 40}, rng));
    GradcheckOptions opt;
    opt.max_elements = 100;
    const GradcheckReport r = gradcheck([](const std::vector<Var>& v) { return tanh(matmul(v[1], v[0])); }, {w, x}, opt);
    CHECK(r.pass);
    REQUIRE(r.inputs.size() == 2);
    CHECK(r.inputs[0].name == "W");
    CHECK(r.inputs[0].checked == 100);   // 1200 elements, a sample of 100
    CHECK(r.inputs[1].name == "input 1");
    CHECK(r.inputs[1].checked == 100);   // 200 elements, a sample of 100
    CHECK(r.max_abs < 1e-7);
    CHECK_THROWS_AS(gradcheck([](const std::vector<Var>& v) { return v[0]; }, {constant(Tensor(Shape{2}))}), std::invalid_argument);
}
