// exercises/grade.cpp — the grader every exercise shares: your forward against the library's, your backward
// against the gradient check of autodiff/gradcheck.h, and what a wrong result looks like.
//
// Shapes: the grader sees tensors of any shape; an element is printed as [i, j, k] in its tensor's own axes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <vector>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "exercises/exercise.h"

namespace s2a::exercise {

Var random_input(const std::string& name, const Shape& s, Rng& rng) { return parameter(randn(s, rng), name); }

Tensor random_mask(const Shape& s, Rng& rng) {
    Tensor mask(s, 1);
    for (Real& m : mask.data) m = rng.uniform() < 0.33 ? 0 : 1;
    for (int i = 0; i < s[-1]; ++i) mask[i] = 0;  // the first row: every position hidden
    return mask;
}

namespace {

// The forward test: |yours - library| ≤ atol + rtol · max(|yours|, |library|) at every element. Both sides
// compute the same formula in double, so anything beyond rounding is a bug.
constexpr double kForwardRtol = 1e-9, kForwardAtol = 1e-12;

// flat index → "[i, j, k]" in the axes of s
std::string index_str(const Shape& s, int64_t flat) {
    std::vector<int64_t> at(s.ndim);
    for (int d = s.ndim - 1; d >= 0; --d) {
        at[d] = flat % s[d];
        flat /= s[d];
    }
    return fmt::format("[{}]", fmt::join(at, ", "));
}

// How a wrong tensor `yours` relates to the right one `truth` (same shape), for the mistakes that have a
// signature: NaN, all zero, the truth times a constant (1/3 in a case whose inputs are used twice: one use's
// gradient overwritten), the truth transposed. "" when none fits.
std::string symptom(const Tensor& yours, const Tensor& truth, bool twice) {
    double yy = 0, tt = 0, yt = 0;
    for (int64_t i = 0; i < yours.numel(); ++i) {
        if (!std::isfinite(yours[i])) return "it holds NaN or ∞: a 0/0 (in a row whose every position is masked?) or a value never written";
        yy += yours[i] * yours[i];
        tt += truth[i] * truth[i];
        yt += yours[i] * truth[i];
    }
    if (tt == 0) return yy == 0 ? "" : "it should be exactly zero everywhere";
    if (yy <= 1e-24 * tt) return "it is all zero: is the TODO still blank? (or nothing is added into it)";
    const double k = yt / tt;  // the least-squares fit yours ≈ k · truth
    double off = 0;
    for (int64_t i = 0; i < yours.numel(); ++i) off += (yours[i] - k * truth[i]) * (yours[i] - k * truth[i]);
    if (off <= 1e-12 * yy) {
        if (twice && (std::fabs(k - 1 / 3.) < 1e-6 || std::fabs(k - 2 / 3.) < 1e-6))
            return fmt::format("it is exactly {:.4g} of the truth: of the input's two uses (1× and 2×) one contribution was overwritten: "
                               "ADD into a gradient (+=), never assign (=)", k);
        if (std::fabs(k + 1) < 1e-6) return "it is exactly minus the truth: a sign is flipped";
        return fmt::format("it is exactly {:.6g} × the truth: a constant factor is missing or extra", k);
    }
    const Shape& s = truth.shape;
    if (s.ndim >= 2 && s[-1] == s[-2] && s[-1] > 1) {  // compare with the truth's last two axes swapped
        const int n = s[-1];
        double off_t = 0;
        for (int64_t i = 0; i < yours.numel(); ++i) {
            const int64_t base = i / (int64_t(n) * n) * n * n, r = i / n % n, c = i % n;
            const double d = yours[i] - truth[base + c * n + r];
            off_t += d * d;
        }
        if (off_t <= 1e-12 * tt) return "it is the truth transposed (last two axes swapped): a missing transpose";
    }
    return "";
}

// Element by element, yours against truth: the worst element and the largest relative error, as gradcheck
// reports a gradient.
struct Comparison {
    bool pass = true;
    double max_abs = 0, max_rel = 0;
    int64_t worst = 0;
    double worst_yours = 0, worst_truth = 0;
};

Comparison compare(const Tensor& yours, const Tensor& truth) {
    Comparison c;
    double worst_ratio = -1;
    for (int64_t i = 0; i < truth.numel(); ++i) {
        const double y = yours[i], t = truth[i], err = std::fabs(y - t), scale = std::max(std::fabs(y), std::fabs(t));
        const double ratio = err / (kForwardAtol + kForwardRtol * scale);
        c.max_abs = std::max(c.max_abs, err);
        if (scale >= kForwardAtol / kForwardRtol) c.max_rel = std::max(c.max_rel, err / scale);
        if (!(ratio <= 1)) c.pass = false;  // also catches NaN
        if (ratio > worst_ratio || std::isnan(ratio)) {
            worst_ratio = std::isnan(ratio) ? INFINITY : ratio;
            c.worst = i;
            c.worst_yours = y;
            c.worst_truth = t;
        }
    }
    return c;
}

// One line of the report: label, verdict, largest relative error, the worst element; then the symptom.
std::string line(const std::string& label, bool pass, double max_rel, const Shape& s, int64_t worst, const char* yours_name,
                 double yours, const char* truth_name, double truth, const std::string& sym) {
    std::string out = fmt::format("  {:<9} {}  max rel {:.1e}  worst {} {} {:.10g}  {} {:.10g}\n", label, pass ? "pass" : "FAIL",
                                  max_rel, index_str(s, worst), yours_name, yours, truth_name, truth);
    if (!pass && !sym.empty()) out += fmt::format("            → {}\n", sym);
    return out;
}

struct CaseResult {
    bool pass = true;
    double worst_rel = 0;
    std::vector<std::string> failed;  // "forward" and the names of the inputs whose gradient failed
    std::string text;
};

std::string describe(const Case& c) {
    std::vector<std::string> parts;
    for (const Var& x : c.inputs) parts.push_back(fmt::format("{} {}", x.name(), x.shape().str()));
    return fmt::format("{}{}", fmt::join(parts, ", "), c.what.empty() ? "" : " · " + c.what);
}

CaseResult grade_case(const Case& c) {
    CaseResult r;
    auto fail = [&](const std::string& what, const std::string& text) {
        r.pass = false;
        r.failed.push_back(what);
        r.text += text;
    };
    // Forward: yours against the library's, on the same inputs.
    Tensor yours, truth;
    bool on_tape = false;
    try {
        const Var y = c.yours(c.inputs);
        yours = y.value();
        on_tape = y.requires_grad();
    } catch (const std::exception& e) {
        tape().clear();
        fail("forward", fmt::format("  forward   FAIL  your op threw: {}\n", e.what()));
        r.worst_rel = 1;
        return r;
    }
    tape().clear();
    {
        NoGrad no_grad;
        truth = c.library(c.inputs).value();
    }
    if (yours.shape != truth.shape) {
        fail("forward", fmt::format("  forward   FAIL  your output is {}, the library's is {}\n", yours.shape.str(), truth.shape.str()));
        r.worst_rel = 1;
        return r;
    }
    const Comparison fw = compare(yours, truth);
    r.worst_rel = fw.max_rel;
    const std::string fw_line = line("forward", fw.pass, fw.max_rel, truth.shape, fw.worst, "yours", fw.worst_yours, "library",
                                     fw.worst_truth, fw.pass ? "" : symptom(yours, truth, c.twice));
    if (fw.pass) r.text += fw_line;
    else fail("forward", fw_line);
    if (!on_tape) {
        r.text += "  gradients not checked: your output is not on the tape (it does not depend on the inputs through ops)\n";
        if (fw.pass) fail("forward", "");
        return r;
    }
    // Backward: the gradient your op records, against central differences.
    try {
        const GradcheckReport g = gradcheck(c.yours, c.inputs);
        for (const GradcheckInput& in : g.inputs) {
            r.worst_rel = std::max(r.worst_rel, in.max_rel);
            const std::string l = line("d" + in.name, in.pass, in.max_rel, in.shape, in.worst, "analytic", in.worst_analytic,
                                       "numeric", in.worst_numeric, in.pass ? "" : symptom(in.analytic, in.numeric, c.twice));
            if (in.pass) r.text += l;
            else fail(in.name, l);
        }
    } catch (const std::exception& e) {
        tape().clear();
        fail("backward", fmt::format("  backward  FAIL  your op threw: {}\n", e.what()));
        r.worst_rel = std::max(r.worst_rel, 1.0);
    }
    return r;
}

// The case with every input used twice: yours(x) + 2 · yours(x), and the same of the library's.
Case used_twice(const Case& c, size_t number) {
    Case t = c;
    t.what = fmt::format("case {} with the inputs used twice: yours(x) + 2 · yours(x)", number);
    t.twice = true;
    const auto twice = [](Fn f) { return [f](const std::vector<Var>& x) { return f(x) + scale(f(x), 2); }; };
    t.yours = twice(c.yours);
    t.library = twice(c.library);
    return t;
}

}  // namespace

Grade grade(const Exercise& ex) {
    std::vector<Case> cases = ex.cases;
    size_t base = 0;  // the case to repeat with its inputs used twice: the first masked one, if any
    for (size_t i = 0; i < cases.size(); ++i)
        if (cases[i].masked) {
            base = i;
            break;
        }
    if (!cases.empty()) cases.push_back(used_twice(cases[base], base + 1));

    Grade g;
    g.pass = true;
    std::string text = fmt::format("exercise {}: the {} you write in exercises/{}.cpp\n", ex.name, ex.blank, ex.name);
    text += fmt::format("lesson {} · the library's own: {}\n", ex.lesson, ex.library);
    text += fmt::format("forward: yours against the library's (relative error ≤ {:.0e}); gradients: autodiff/gradcheck.h "
                        "(central differences in double, relative error ≤ 1e-6)\n",
                        kForwardRtol);
    std::vector<std::string> failed;  // every input (or "forward") that failed in some case
    int wrong = 0, wrong_plain = 0, wrong_masked = 0, masked = 0;
    bool wrong_twice = false;
    for (size_t i = 0; i < cases.size(); ++i) {
        const Case& c = cases[i];
        const CaseResult r = grade_case(c);
        text += fmt::format("\ncase {}  {}\n{}", i + 1, describe(c), r.text);
        g.worst_rel = std::max(g.worst_rel, r.worst_rel);
        masked += c.masked && !c.twice;
        if (r.pass) continue;
        g.pass = false;
        ++wrong;
        if (c.twice) wrong_twice = true;
        else if (c.masked) ++wrong_masked;
        else ++wrong_plain;
        for (const std::string& f : r.failed)
            if (std::find(failed.begin(), failed.end(), f) == failed.end()) failed.push_back(f);
    }

    if (g.pass) {
        text += fmt::format("\nPASS: all {} cases, worst relative error {:.1e}\n", cases.size(), g.worst_rel);
    } else {
        text += fmt::format("\nFAIL: {} of {} cases wrong, worst relative error {:.1e}\n", wrong, cases.size(), g.worst_rel);
        const int plain = static_cast<int>(cases.size()) - 1 - masked;
        if (wrong_plain == 0 && wrong_masked == 0 && wrong_twice)
            text += "  every case passes once and fails only with its inputs used twice: your backward overwrites (=) a "
                    "gradient it must add to (+=); the tape sums every use's contribution\n";
        if (wrong_plain == 0 && plain > 0 && wrong_masked > 0)
            text += "  only the cases with a mask fail: hidden positions must get weight exactly 0 and gradient 0, and a "
                    "row hidden entirely must give zeros (not 0/0)\n";
        text += "hints:\n";
        for (const auto& [input, hint] : ex.hints)
            if (std::find(failed.begin(), failed.end(), input) != failed.end() ||
                (input != "forward" && std::find(failed.begin(), failed.end(), "backward") != failed.end()))
                text += fmt::format("  {:<9} {}\n", input == "forward" ? "forward" : "d" + input, hint);
        text += fmt::format("solution: exercises/solutions/{}.cpp (try your own first)\n", ex.name);
    }
    g.report = text;
    g.row = fmt::format("{:<28} {:<6} {:.1e}\n", ex.name, g.pass ? "pass" : "FAIL", g.worst_rel);
    return g;
}

}  // namespace s2a::exercise
