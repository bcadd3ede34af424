// autodiff/gradcheck.cpp — analytic gradients from the tape against central differences.
#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace s2a {

namespace {

// L = Σ out ⊙ r, summed in double.
double project(const Tensor& out, const Tensor& r) {
    double total = 0;
    for (int64_t i = 0; i < out.numel(); ++i) total += static_cast<double>(out[i]) * r[i];
    return total;
}

}  // namespace

GradcheckReport gradcheck(const std::function<Var(const std::vector<Var>&)>& f, const std::vector<Var>& inputs,
                          const GradcheckOptions& opt) {
    if (sizeof(Real) < sizeof(double))
        throw std::logic_error("gradcheck needs double precision: build with -DSEQ2ATTN_DOUBLE (make test and make gradcheck do)");
    for (const Var& x : inputs)
        if (!x.requires_grad()) throw std::invalid_argument("gradcheck: every input must be made with parameter()");
    Rng rng(opt.seed);

    // Analytic: one forward and one backward of L = Σ f(x) ⊙ r.
    tape().clear();
    zero_grad(inputs);
    Var out = f(inputs);
    // A single-number output (a loss) needs no projection: r = 1 keeps the printed gradients comparable.
    const Tensor r = out.numel() == 1 ? Tensor(out.shape(), 1) : randn(out.shape(), rng);
    if (out.requires_grad()) backward(sum(out * constant(r)));
    std::vector<Tensor> analytic;
    for (const Var& x : inputs) analytic.push_back(x.has_grad() ? x.grad() : Tensor(x.shape()));
    tape().clear();

    // Numeric: two forwards per checked element, nothing recorded.
    NoGrad no_grad;
    GradcheckReport report;
    for (size_t k = 0; k < inputs.size(); ++k) {
        Var x = inputs[k];
        GradcheckInput in;
        in.name = x.name().empty() ? fmt::format("input {}", k) : x.name();
        in.shape = x.shape();
        in.numeric = Tensor(x.shape());
        std::vector<int64_t> which;
        if (x.numel() <= opt.max_elements)
            for (int64_t i = 0; i < x.numel(); ++i) which.push_back(i);
        else
            for (int i = 0; i < opt.max_elements; ++i) which.push_back(static_cast<int64_t>(rng.next_u64() % x.numel()));
        double worst_ratio = -1;
        for (int64_t i : which) {
            const Real saved = x.value()[i];
            x.value()[i] = saved + static_cast<Real>(opt.step);
            const double plus = project(f(inputs).value(), r);
            x.value()[i] = saved - static_cast<Real>(opt.step);
            const double minus = project(f(inputs).value(), r);
            x.value()[i] = saved;
            const double numeric = (plus - minus) / (2 * opt.step), a = analytic[k][i];
            in.numeric[i] = static_cast<Real>(numeric);
            const double err = std::fabs(a - numeric), scale = std::max(std::fabs(a), std::fabs(numeric));
            const double ratio = err / (opt.atol + opt.rtol * scale);  // ≤ 1 passes
            in.max_abs = std::max(in.max_abs, err);
            // Relative error means something only where the gradient is large against the absolute floor
            // (|g| ≥ atol / rtol = 1e-2 by default); below that the absolute test decides.
            if (scale >= opt.atol / opt.rtol) in.max_rel = std::max(in.max_rel, err / scale);
            if (!(ratio <= 1)) in.pass = false;  // also catches NaN
            if (ratio > worst_ratio || std::isnan(ratio)) {
                worst_ratio = std::isnan(ratio) ? INFINITY : ratio;
                in.worst = i;
                in.worst_analytic = a;
                in.worst_numeric = numeric;
            }
        }
        in.checked = static_cast<int64_t>(which.size());
        in.analytic = std::move(analytic[k]);
        report.pass = report.pass && in.pass;
        report.max_abs = std::max(report.max_abs, in.max_abs);
        report.max_rel = std::max(report.max_rel, in.max_rel);
        report.inputs.push_back(in);
    }
    return report;
}

std::string GradcheckReport::str() const {
    std::string s;
    for (const GradcheckInput& in : inputs)
        s += fmt::format("  {:<12} {:<14} checked {:>4}  max abs {:.2e}  max rel {:.2e}  worst [{}] analytic {:.10g} numeric {:.10g}  {}\n",
                         in.name, in.shape.str(), in.checked, in.max_abs, in.max_rel, in.worst, in.worst_analytic,
                         in.worst_numeric, in.pass ? "pass" : "FAIL");
    return s;
}

}  // namespace s2a
