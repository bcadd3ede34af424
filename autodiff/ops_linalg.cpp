// autodiff/ops_linalg.cpp — matrix products: matmul (2-D), linear (matmul plus a bias, fused; linear_relu with a
// ReLU too, linear_residual with a residual sum) and bmm (a batch of them, 3-D).
//
// Dimensions: M rows of the result, N its columns, K the summed (inner) dimension, B the batch.
// op(X) means X, or Xᵀ when the trans flag is set; the transposes are BLAS flags, never copies.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "autodiff/kernels.h"
#include "autodiff/ops.h"

namespace s2a {

namespace {

struct MatDims {
    int M, N, K;
};

// The dimensions of op(A) (M, K) · op(B) (K, N), given the stored shapes' last two axes.
MatDims mat_dims(const char* op, const Shape& a, const Shape& b, bool ta, bool tb) {
    const int a_rows = a[-2], a_cols = a[-1], b_rows = b[-2], b_cols = b[-1];
    const MatDims d{ta ? a_cols : a_rows, tb ? b_rows : b_cols, ta ? a_rows : a_cols};
    const int kb = tb ? b_cols : b_rows;
    if (d.K != kb)
        shape_error(op, fmt::format("inner dimensions differ ({} vs {}; trans_a={}, trans_b={})", d.K, kb, ta, tb), {a, b});
    return d;
}

// Backward of C = op(A) · op(B) for one matrix pair, into dA and dB (each added to, or written when its beta is
// 0: see grad_out; a null ptr skips it):
//   d op(A) = dC · op(B)ᵀ      d op(B) = op(A)ᵀ · dC
// and when A itself is stored transposed, dA is the transpose of d op(A) (likewise for B).
void matmul_backward(const MatDims& d, bool ta, bool tb, const Real* A, const Real* B, const Real* dC, GradOut dA,
                     GradOut dB) {
    const int lda = ta ? d.M : d.K, ldb = tb ? d.K : d.N;
    if (dA.ptr) {
        if (!ta) gemm(false, !tb, d.M, d.K, d.N, 1, dC, d.N, B, ldb, dA.beta, dA.ptr, d.K);  // dA (M, K) = dC · op(B)ᵀ
        else gemm(tb, true, d.K, d.M, d.N, 1, B, ldb, dC, d.N, dA.beta, dA.ptr, d.M);        // dA (K, M) = op(B) · dCᵀ
    }
    if (dB.ptr) {
        if (!tb) gemm(!ta, false, d.K, d.N, d.M, 1, A, lda, dC, d.N, dB.beta, dB.ptr, d.N);  // dB (K, N) = op(A)ᵀ · dC
        else gemm(true, ta, d.N, d.K, d.M, 1, dC, d.N, A, lda, dB.beta, dB.ptr, d.K);        // dB (N, K) = dCᵀ · op(A)
    }
}

// The number of rows of a (..., K) tensor read as a matrix: the product of all axes but the last. (Not
// numel / K, which is 0 when K is: an empty inner dimension still leaves every output row to be written.)
int leading_rows(const Shape& s) {
    int64_t rows = 1;
    for (int i = 0; i + 1 < s.ndim; ++i) rows *= s[i];
    return static_cast<int>(rows);
}

}  // namespace

// C (M, N) = op(A) · op(B). A may have any number of axes when it is not transposed: A (..., K) is read as
// (M, K) with M the product of the leading axes (it is contiguous, so no copy), and C is (..., N). That is
// how a layer applies one weight matrix to every position of a (B, T, K) sequence in one product.
Var matmul(const Var& a, const Var& b, bool ta, bool tb) {
    if (a.ndim() < 1 || b.ndim() != 2 || (ta && a.ndim() != 2))
        shape_error("matmul", "needs A (M, K) or (..., K), and B 2-D (use bmm for batches)", {a.shape(), b.shape()});
    Shape a2 = a.shape();  // A as a matrix
    if (a.ndim() != 2) a2 = Shape{leading_rows(a.shape()), a.dim(-1)};
    const MatDims d = mat_dims("matmul", a2, b.shape(), ta, tb);
    Shape cs = a.shape();
    cs[-1] = d.N;
    if (ta) cs = Shape{d.M, d.N};
    Tensor c = Tensor::uninitialized(cs);  // gemm with beta = 0 writes every element
    gemm(ta, tb, d.M, d.N, d.K, 1, a.value().ptr(), a2[1], b.value().ptr(), b.dim(1), 0, c.ptr(), d.N);
    return record("matmul", std::move(c), {a, b}, [a, b, d, ta, tb](Node& out) {
        const GradOut dA = grad_out(a), dB = grad_out(b);  // in this order: dA is written first (a may be b)
        matmul_backward(d, ta, tb, a.value().ptr(), b.value().ptr(), out.grad.ptr(), dA, dB);
    });
}

namespace {

// y (..., N) = x (..., K) · W (K, N) + b (N): matmul and a bias row in one node. The fused form writes the
// bias into y first and lets the product add onto it (gemm with beta = 1), so the (M, N) sum never needs a
// tensor of its own, nor its gradient a second one. Backward, with dy (M, N):
//   dx = dy · Wᵀ,   dW = xᵀ · dy,   db = Σ_rows dy   (the bias was added to every row)
// With relu, y = max(0, x · W + b) in place, and the backward first masks the gradient where y is 0:
//   dz = dy ⊙ [y > 0]   (relu' is 1 where its input was positive, which is where y is; then dx, dW, db from dz)
// One node, and one (M, N) tensor kept for backward where linear then relu keep two (the feed-forward layer's
// widest). The numbers are the two ops', bit for bit.
// With a residual r (..., N), y = r + (x · W + b), the residual connection's sum, added where the product was
// written; backward passes dy to r unchanged (the sum's derivative is 1) before the linear part's gradients:
//   dr = dy,   then dx, dW, db from dy
// The sublayer's output x · W + b is never kept: a Transformer's residual sums keep one tensor each, not two.
// The numbers are linear then add's, bit for bit. (Never relu and a residual together: relu's mask would be
// read off the sum.)
Var linear_node(const char* op, const Var& x, const Var& W, const Var& b, bool relu, const Var* residual) {
    if (relu && residual) throw std::logic_error(fmt::format("{}: relu and a residual together", op));
    if (x.ndim() < 1 || W.ndim() != 2 || b.ndim() != 1 || x.dim(-1) != W.dim(0) || b.dim(0) != W.dim(1))
        shape_error(op, "needs x (..., K), W (K, N), b (N)", {x.shape(), W.shape(), b.shape()});
    const MatDims d{leading_rows(x.shape()), W.dim(1), W.dim(0)};
    Shape ys = x.shape();
    ys[-1] = d.N;
    if (residual && residual->shape() != ys)
        shape_error(op, fmt::format("the residual must have the output's shape {}", ys.str()),
                    {x.shape(), W.shape(), b.shape(), residual->shape()});
    Tensor y = Tensor::uninitialized(ys);
    Real* py = y.ptr();
    linear_forward(d.M, d.N, d.K, x.value().ptr(), W.value().ptr(), b.value().ptr(), py);
    // The passes over y besides the product are shared among the cores by rows (row_grain rows at least each).
    const int64_t row_grain = std::max<int64_t>(1, kPointwiseGrain / std::max(d.N, 1));
    if (relu)
        parallel_ranges(d.M, row_grain, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin * d.N; i < end * d.N; ++i) py[i] = py[i] > 0 ? py[i] : Real(0);
        });
    if (residual) {
        const Real* pr = residual->value().ptr();
        parallel_ranges(d.M, row_grain, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin * d.N; i < end * d.N; ++i) py[i] = pr[i] + py[i];  // r + (x · W + b), as add(r, ·)
        });
    }
    std::vector<Var> inputs = {x, W, b};
    if (residual) inputs.push_back(*residual);
    const Var r = residual ? *residual : Var();
    return record(op, std::move(y), std::move(inputs), [x, W, b, r, relu](Node& out) {
        // dz (M, N) = dy ⊙ [y > 0] in place of dy when nobody else will read dy (the widest gradient of a
        // Transformer step: one (B, T, F) buffer less at the step's peak)
        Tensor dz = relu && !out.grad_private ? Tensor::uninitialized(out.grad.shape) : Tensor();
        Real* pz = !relu ? nullptr : out.grad_private ? out.grad.ptr() : dz.ptr();
        linear_backward(x, W, b, out.grad.ptr(), r, relu ? out.value.ptr() : nullptr, pz);
    });
}

}  // namespace

void linear_forward(int M, int N, int K, const Real* x, const Real* W, const Real* b, Real* y) {
    // b into every row of y (the rows shared among the cores), then y += x · W
    parallel_ranges(M, std::max<int64_t>(1, kPointwiseGrain / std::max(N, 1)), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) std::copy_n(b, N, y + i * N);
    });
    gemm(false, false, M, N, K, 1, x, K, W, N, 1, y, N);
}

void linear_backward(const Var& x, const Var& W, const Var& b, const Real* dy, const Var& r, const Real* y, Real* dz) {
    const MatDims d{leading_rows(x.shape()), W.dim(1), W.dim(0)};
    // One pass over dy (M, N) before the products, its columns shared among the cores:
    //   residual: dr = dy;   relu: dz = dy ⊙ [y > 0];   db = Σ_rows dz (dz = dy without relu)
    // Each column of db is summed over the rows in order, and dr comes first (the add's backward ran
    // before the linear one's), so the numbers are those of the separate ops.
    const GradOut dr = r.defined() ? grad_out(r) : GradOut{nullptr, 0};
    Real* db = b.requires_grad() ? b.grad().ptr() : nullptr;
    const int64_t N = d.N;
    parallel_ranges(N, std::max<int64_t>(1, kPointwiseGrain / std::max(d.M, 1)), [&](int64_t c0, int64_t c1) {
        for (int64_t row = 0; row < d.M; ++row) {
            const int64_t o = row * N;
            if (dr.ptr && dr.beta == 0)
                for (int64_t j = c0; j < c1; ++j) dr.ptr[o + j] = Real(0) + dy[o + j];
            else if (dr.ptr)
                for (int64_t j = c0; j < c1; ++j) dr.ptr[o + j] += dy[o + j];
            // The mask as a select, not Real(y > 0): GCC turns that conversion into a branch and leaves
            // the loop scalar; the select vectorises. (The dr loop above read this row of dy before dz,
            // which may be dy's own buffer, overwrites it.)
            if (y)
                for (int64_t j = c0; j < c1; ++j) {
                    const Real open = y[o + j] > 0 ? Real(1) : Real(0);  // relu'(z) from y = relu(z)
                    dz[o + j] = Real(0) + dy[o + j] * open;
                }
            const Real* g = y ? dz + o : dy + o;
            if (db)
                for (int64_t j = c0; j < c1; ++j) db[j] += g[j];
        }
    });
    const GradOut dx = grad_out(x), dW = grad_out(W);
    matmul_backward(d, false, false, x.value().ptr(), W.value().ptr(), y ? dz : dy, dx, dW);
}

Var linear(const Var& x, const Var& W, const Var& b) { return linear_node("linear", x, W, b, false, nullptr); }
Var linear_relu(const Var& x, const Var& W, const Var& b) { return linear_node("linear_relu", x, W, b, true, nullptr); }
Var linear_residual(const Var& x, const Var& W, const Var& b, const Var& r) {
    return linear_node("linear_residual", x, W, b, false, &r);
}

// C[i] (M, N) = op(A[i]) · op(B[i]) for i < B
Var bmm(const Var& a, const Var& b, bool ta, bool tb) {
    if (a.ndim() != 3 || b.ndim() != 3 || a.dim(0) != b.dim(0))
        shape_error("bmm", "needs two 3-D tensors with the same batch size", {a.shape(), b.shape()});
    const MatDims d = mat_dims("bmm", a.shape(), b.shape(), ta, tb);
    const int batch = a.dim(0);
    const int64_t sa = int64_t(d.M) * d.K, sb = int64_t(d.K) * d.N, sc = int64_t(d.M) * d.N;  // per-item strides
    Tensor c = Tensor::uninitialized(Shape{batch, d.M, d.N});
    // The items are independent products, shared among the cores (an attention's are small: one core each keeps
    // both busy); each is the same single call wherever it runs, so the bits do not depend on the threads.
    parallel_for(batch, [&](int i) {
        gemm(ta, tb, d.M, d.N, d.K, 1, a.value().ptr() + i * sa, a.dim(2), b.value().ptr() + i * sb, b.dim(2), 0,
             c.ptr() + i * sc, d.N);
    });
    return record("bmm", std::move(c), {a, b}, [a, b, d, ta, tb, batch, sa, sb, sc](Node& out) {
        const GradOut dA = grad_out(a), dB = grad_out(b);  // in this order (a may be b); item i writes its own slices
        parallel_for(batch, [&](int i) {
            matmul_backward(d, ta, tb, a.value().ptr() + i * sa, b.value().ptr() + i * sb, out.grad.ptr() + i * sc,
                            {dA.ptr ? dA.ptr + i * sa : nullptr, dA.beta}, {dB.ptr ? dB.ptr + i * sb : nullptr, dB.beta});
        });
    });
}

}  // namespace s2a
