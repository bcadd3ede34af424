// autodiff/ops_pointwise.cpp — element-by-element ops: y = f(x) and y = f(a, b) with broadcasting.
//
// Every op here is a forward formula and its partial derivatives, written next to each other; the two
// helpers `unary` and `binary` do the loops, so the chain rule lives in one place:
//   unary:  dx += dy · f'(x)                    (f' may use the saved output y, e.g. tanh' = 1 - y²)
//   binary: da += dy · ∂f/∂a,  db += dy · ∂f/∂b  (summed over the positions a broadcast input was stretched to)
#include <cmath>

#include "autodiff/broadcast.h"
#include "autodiff/ops.h"

namespace s2a {

namespace {

// y = f(a, b); backward: da += dy · dfda(a, b, y), db += dy · dfdb(a, b, y).
template <class F, class DA, class DB>
Var binary(const char* op, const Var& a, const Var& b, F f, DA dfda, DB dfdb) {
    const Broadcast bc = broadcast(op, a.shape(), b.shape());
    auto compute = [a, b, bc, f] {  // the forward, and all of it again if the output is recomputed (tape.h)
        Tensor y = Tensor::uninitialized(bc.out);
        const Real *pa = a.value().ptr(), *pb = b.value().ptr();
        Real* py = y.ptr();
        if (bc.same)  // one shape (a residual sum): shared among the cores when large
            parallel_ranges(y.numel(), kPointwiseGrain, [&](int64_t begin, int64_t end) {
                for (int64_t i = begin; i < end; ++i) py[i] = f(pa[i], pb[i]);
            });
        else
            for_each(bc, [&](int64_t o, int64_t ia, int64_t ib) { py[o] = f(pa[ia], pb[ib]); });
        return y;
    };
    Tensor y = compute();
    count_flops(y.numel());  // for the profiler: one per element here, a multiply-add per element per gradient below
    return recomputable(compute, record(op, std::move(y), {a, b}, [a, b, bc, dfda, dfdb](Node& out) {
        count_flops(2.0 * out.value.numel() * (a.requires_grad() + b.requires_grad()));
        const Real *pa = a.value().ptr(), *pb = b.value().ptr(), *py = out.value.ptr(), *dy = out.grad.ptr();
        if (bc.same) {  // one shape: each input element gets exactly one term, so the first gradient can be stored
            add_to_grad(a, [&](int64_t i) { return dy[i] * dfda(pa[i], pb[i], py[i]); });
            add_to_grad(b, [&](int64_t i) { return dy[i] * dfdb(pa[i], pb[i], py[i]); });
            return;
        }
        if (a.requires_grad()) {
            Real* da = a.grad().ptr();
            for_each(bc, [&](int64_t o, int64_t ia, int64_t ib) { da[ia] += dy[o] * dfda(pa[ia], pb[ib], py[o]); });
        }
        if (b.requires_grad()) {
            Real* db = b.grad().ptr();
            for_each(bc, [&](int64_t o, int64_t ia, int64_t ib) { db[ib] += dy[o] * dfdb(pa[ia], pb[ib], py[o]); });
        }
    }));
}

// y = f(x); backward: dx += dy · dfdx(x, y).
template <class F, class DF>
Var unary(const char* op, const Var& x, F f, DF dfdx) {
    auto compute = [x, f] {  // as in binary
        Tensor y = Tensor::uninitialized(x.shape());
        const Real* px = x.value().ptr();
        Real* py = y.ptr();
        parallel_ranges(y.numel(), kPointwiseGrain, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) py[i] = f(px[i]);
        });
        return y;
    };
    Tensor y = compute();
    count_flops(y.numel());  // for the profiler, as in binary
    return recomputable(compute, record(op, std::move(y), {x}, [x, dfdx](Node& out) {
        count_flops(2.0 * out.value.numel());
        const Real *px = x.value().ptr(), *py = out.value.ptr(), *dy = out.grad.ptr();
        add_to_grad(x, [&](int64_t i) { return dy[i] * dfdx(px[i], py[i]); });
    }));
}

}  // namespace

// y = a + b        ∂y/∂a = 1, ∂y/∂b = 1
Var add(const Var& a, const Var& b) {
    return binary("add", a, b, [](Real x, Real y) { return x + y; },
                  [](Real, Real, Real) { return Real(1); }, [](Real, Real, Real) { return Real(1); });
}

// y = a - b        ∂y/∂a = 1, ∂y/∂b = -1
Var sub(const Var& a, const Var& b) {
    return binary("sub", a, b, [](Real x, Real y) { return x - y; },
                  [](Real, Real, Real) { return Real(1); }, [](Real, Real, Real) { return Real(-1); });
}

// y = a · b        ∂y/∂a = b, ∂y/∂b = a
Var mul(const Var& a, const Var& b) {
    return binary("mul", a, b, [](Real x, Real y) { return x * y; },
                  [](Real, Real y, Real) { return y; }, [](Real x, Real, Real) { return x; });
}

// y = a / b        ∂y/∂a = 1 / b, ∂y/∂b = -a / b² = -y / b
Var div(const Var& a, const Var& b) {
    return binary("div", a, b, [](Real x, Real y) { return x / y; },
                  [](Real, Real y, Real) { return 1 / y; }, [](Real, Real y, Real q) { return -q / y; });
}

// y = -x           dy/dx = -1
Var neg(const Var& x) {
    return unary("neg", x, [](Real v) { return -v; }, [](Real, Real) { return Real(-1); });
}

// y = s · x        dy/dx = s
Var scale(const Var& x, Real s) {
    return unary("scale", x, [s](Real v) { return s * v; }, [s](Real, Real) { return s; });
}

// y = tanh x       dy/dx = 1 - y²
Var tanh(const Var& x) {
    return unary("tanh", x, [](Real v) { return std::tanh(v); }, [](Real, Real y) { return 1 - y * y; });
}

// y = σ(x) = 1 / (1 + e⁻ˣ)     dy/dx = y (1 - y)
Var sigmoid(const Var& x) {
    return unary("sigmoid", x, [](Real v) { return 1 / (1 + std::exp(-v)); }, [](Real, Real y) { return y * (1 - y); });
}

// y = max(0, x)    dy/dx = 1 if x > 0 else 0
Var relu(const Var& x) {
    return unary("relu", x, [](Real v) { return v > 0 ? v : Real(0); }, [](Real v, Real) { return v > 0 ? Real(1) : Real(0); });
}

// y = eˣ           dy/dx = y
Var exp(const Var& x) {
    return unary("exp", x, [](Real v) { return std::exp(v); }, [](Real, Real y) { return y; });
}

// y = ln x         dy/dx = 1 / x
Var log(const Var& x) {
    return unary("log", x, [](Real v) { return std::log(v); }, [](Real v, Real) { return 1 / v; });
}

}  // namespace s2a
