// tests/table/gradcheck_table.cpp — `make gradcheck`: every op's gradient check as one table; then every fused
// kernel (nn/fused_*) next to its op-by-op reference, both checked on the same inputs and their values compared.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "tests/op_cases.h"

using namespace s2a;

namespace {

// The largest difference allowed between a fused op's values and its reference's (the tests' bound).
constexpr double kAgree = 1e-12;

struct Totals {
    int failed = 0, total = 0;
    double worst_abs = 0, worst_rel = 0;
};

// Gradient-checks c on inputs and counts the result; `ok` is a further condition the row must meet.
GradcheckReport check(const OpCase& c, const std::vector<Var>& inputs, bool ok, Totals& totals) {
    const GradcheckReport r = gradcheck(c.f, inputs);
    totals.failed += !(r.pass && ok);
    ++totals.total;
    totals.worst_abs = std::max(totals.worst_abs, r.max_abs);
    totals.worst_rel = std::max(totals.worst_rel, r.max_rel);
    return r;
}

std::string shapes_str(const OpCase& c) {
    std::string shapes;
    for (const Shape& s : c.shapes) shapes += (shapes.empty() ? "" : " ") + s.str();
    return shapes;
}

// max |a - b| over the elements of two tensors of one shape (infinity if the shapes differ).
double max_abs_diff(const Tensor& a, const Tensor& b) {
    if (a.shape != b.shape) return INFINITY;
    double m = 0;
    for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
    return m;
}

}  // namespace

int main() {
    Totals totals;
    fmt::print("{:<14} {:<36} {:<34} {:>10} {:>10}  {}\n", "op", "case", "shapes", "max abs", "max rel", "result");
    for (const OpCase& c : op_cases()) {
        const GradcheckReport r = check(c, case_inputs(c, 42 + totals.total), true, totals);
        fmt::print("{:<14} {:<36} {:<34} {:>10.2e} {:>10.2e}  {}\n", c.op, c.variant, shapes_str(c), r.max_abs, r.max_rel,
                   r.pass ? "pass" : "FAIL");
        if (!r.pass) fmt::print("{}", r.str());
    }

    // Each fused op's row, then its reference's on the same inputs, with |f - r| the largest difference of their
    // values: a pair passes when both gradients pass and the values agree.
    fmt::print("\nFused kernels beside their op-by-op references (same inputs; |f - r| = max |fused - reference|, "
               "pass: <= {:g}):\n", kAgree);
    const std::string row = "{:<32} {:<46} {:<46} {:>10} {:>10} {:>10}  {}\n";
    std::string pair;  // the fused op whose cases are being printed
    for (const FusedCase& fc : fused_cases()) {
        if (fc.fused.op != pair) {
            pair = fc.fused.op;
            fmt::print("\n{} ↔ {}: {}\n", fc.fused.op, fc.reference.op, fc.where);
            fmt::print(row, "op", "case", "shapes", "max abs", "max rel", "|f - r|", "result");
        }
        const std::vector<Var> inputs = case_inputs(fc.fused, 42 + totals.total);
        double diff = 0;
        {
            NoGrad no_grad;
            diff = max_abs_diff(fc.fused.f(inputs).value(), fc.reference.f(inputs).value());
        }
        const GradcheckReport rf = check(fc.fused, inputs, true, totals);
        const bool agree = diff <= kAgree;
        const GradcheckReport rr = check(fc.reference, inputs, agree, totals);
        fmt::print(row, fc.fused.op + " (fused)", fc.fused.variant, shapes_str(fc.fused),
                   fmt::format("{:.2e}", rf.max_abs), fmt::format("{:.2e}", rf.max_rel), "", rf.pass ? "pass" : "FAIL");
        if (!rf.pass) fmt::print("{}", rf.str());
        fmt::print(row, "  ↔ " + fc.reference.op, "", "", fmt::format("{:.2e}", rr.max_abs),
                   fmt::format("{:.2e}", rr.max_rel), fmt::format("{:.2e}", diff), rr.pass && agree ? "pass" : "FAIL");
        if (!rr.pass) fmt::print("{}", rr.str());
    }

    const GradcheckOptions o;
    fmt::print("\n{} cases, {} failed. Worst: max abs {:.2e}, max rel {:.2e} (pass: |a - n| <= {:g} + {:g} max(|a|, |n|), step {:g})\n",
               totals.total, totals.failed, totals.worst_abs, totals.worst_rel, o.atol, o.rtol, o.step);
    return totals.failed ? 1 : 0;
}
