// tests/table/gradcheck_table.cpp — `make gradcheck`: every op's gradient check as one table; then every fused
// kernel (nn/fused_*) next to its op-by-op reference, both checked on the same inputs and their values compared.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "tests/op_cases.h"

using namespace s2a;

namespace {

struct Totals {
    int failed = 0, total = 0;
    double worst_abs = 0, worst_rel = 0;
};

// Counts one row of the table: `pass` its verdict, r its gradient check (for the worst errors).
void count(const GradcheckReport& r, bool pass, Totals& totals) {
    totals.failed += !pass;
    ++totals.total;
    totals.worst_abs = std::max(totals.worst_abs, r.max_abs);
    totals.worst_rel = std::max(totals.worst_rel, r.max_rel);
}

std::string shapes_str(const OpCase& c) {
    std::string shapes;
    for (const Shape& s : c.shapes) shapes += (shapes.empty() ? "" : " ") + s.str();
    return shapes;
}

}  // namespace

int main() {
    Totals totals;
    fmt::print("{:<14} {:<36} {:<34} {:>10} {:>10}  {}\n", "op", "case", "shapes", "max abs", "max rel", "result");
    for (const OpCase& c : op_cases()) {
        const GradcheckReport r = gradcheck(c.f, case_inputs(c, 42 + totals.total));
        count(r, r.pass, totals);
        fmt::print("{:<14} {:<36} {:<34} {:>10.2e} {:>10.2e}  {}\n", c.op, c.variant, shapes_str(c), r.max_abs, r.max_rel,
                   r.pass ? "pass" : "FAIL");
        if (!r.pass) fmt::print("{}", r.str());
    }

    // Each fused op's row, then its reference's on the same inputs, with |f - r| the largest difference of their
    // values: a pair passes when both gradients pass and the values agree.
    fmt::print("\nFused kernels beside their op-by-op references (same inputs; |f - r| = max |fused - reference|, "
               "pass: <= {:g}):\n", kFusedAgree);
    const std::string row = "{:<32} {:<46} {:<46} {:>10} {:>10} {:>10}  {}\n";
    std::string pair;  // the fused op whose cases are being printed
    for (const FusedCase& fc : fused_cases()) {
        if (fc.fused.op != pair) {
            pair = fc.fused.op;
            fmt::print("\n{} ↔ {}: {}\n", fc.fused.op, fc.reference.op, fc.where);
            fmt::print(row, "op", "case", "shapes", "max abs", "max rel", "|f - r|", "result");
        }
        const FusedCheck check = check_fused(fc);
        const GradcheckReport& rf = check.fused;
        const GradcheckReport& rr = check.reference;
        const bool pair_pass = rr.pass && check.agree();  // the reference's row carries the comparison too
        count(rf, rf.pass, totals);
        count(rr, pair_pass, totals);
        fmt::print(row, fc.fused.op + " (fused)", fc.fused.variant, shapes_str(fc.fused),
                   fmt::format("{:.2e}", rf.max_abs), fmt::format("{:.2e}", rf.max_rel), "", rf.pass ? "pass" : "FAIL");
        if (!rf.pass) fmt::print("{}", rf.str());
        fmt::print(row, "  ↔ " + fc.reference.op, "", "", fmt::format("{:.2e}", rr.max_abs),
                   fmt::format("{:.2e}", rr.max_rel), fmt::format("{:.2e}", check.diff), pair_pass ? "pass" : "FAIL");
        if (!rr.pass) fmt::print("{}", rr.str());
    }

    const GradcheckOptions o;
    fmt::print("\n{} cases, {} failed. Worst: max abs {:.2e}, max rel {:.2e} (pass: |a - n| <= {:g} + {:g} max(|a|, |n|), step {:g})\n",
               totals.total, totals.failed, totals.worst_abs, totals.worst_rel, o.atol, o.rtol, o.step);
    return totals.failed ? 1 : 0;
}
