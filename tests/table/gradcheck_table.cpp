// tests/table/gradcheck_table.cpp — `make gradcheck`: every op's gradient check as one table.
#include <fmt/format.h>

#include "tests/op_cases.h"

using namespace s2a;

int main() {
    fmt::print("{:<14} {:<36} {:<34} {:>10} {:>10}  {}\n", "op", "case", "shapes", "max abs", "max rel", "result");
    int failed = 0, total = 0;
    double worst_abs = 0, worst_rel = 0;
    for (const OpCase& c : op_cases()) {
        const GradcheckReport r = gradcheck(c.f, case_inputs(c, 42 + total));
        std::string shapes;
        for (const Shape& s : c.shapes) shapes += (shapes.empty() ? "" : " ") + s.str();
        fmt::print("{:<14} {:<36} {:<34} {:>10.2e} {:>10.2e}  {}\n", c.op, c.variant, shapes, r.max_abs, r.max_rel,
                   r.pass ? "pass" : "FAIL");
        if (!r.pass) fmt::print("{}", r.str());
        failed += !r.pass;
        ++total;
        worst_abs = std::max(worst_abs, r.max_abs);
        worst_rel = std::max(worst_rel, r.max_rel);
    }
    const GradcheckOptions o;
    fmt::print("\n{} cases, {} failed. Worst: max abs {:.2e}, max rel {:.2e} (pass: |a - n| <= {:g} + {:g} max(|a|, |n|), step {:g})\n",
               total, failed, worst_abs, worst_rel, o.atol, o.rtol, o.step);
    return failed ? 1 : 0;
}
