// nn/fused_lstm.cpp — the fused LSTM recurrence (forward and backward by hand) and the SIMD pointwise math
// it runs on. The reference it must agree with is lstm_cell_reference (nn/lstm.cpp), the textbook cell op by
// op; tests/test_rnn.cpp holds the two together (see nn/fused_lstm.h).
//
// Dimensions: B batch, T time steps, D input features, H hidden units; G = 4H, the four gates side by side.
// Every per-sequence buffer is batch-first like x: row (b, t) of a (B, T, n) buffer starts at (b·T + t)·n.
#include "nn/fused_lstm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "autodiff/kernels.h"

namespace s2a {

// ---------------------------------------------------------------- fast pointwise math
//
// Each step evaluates five activations per hidden unit (σ three times, tanh twice): 4.8 million per forward
// pass at B = 128, T = 29, H = 256. With the C library's scalar std::exp (≈ 4 ns) and std::tanh (≈ 20 ns)
// that costs as much as all the recurrent matrix products together. Two changes make it cheap:
//   1. tanh through exp:   tanh(x) = 1 - 2 / (e^{2x} + 1),     σ(x) = 1 / (1 + e^{-x});
//   2. exp as plain arithmetic, which the compiler turns into SIMD instructions (several values at once):
//        e^x = 2^n · e^r,   n = round(x / ln 2),   r = x - n · ln 2  in [-ln2/2, ln2/2]
//      e^r by its Taylor series Σ_{k<K} r^k / k!, with K chosen so the first term left out, (ln2/2)^K / K!,
//      is below Real's precision; 2^n by writing n + bias straight into the exponent bits of a Real.
// The result is within a few units in the last place of std::exp, and the tests hold the whole fused path
// to the reference cell (which uses std::exp and std::tanh) to 1e-12.
namespace {

#ifdef SEQ2ATTN_DOUBLE
using RealBits = uint64_t;          // an unsigned integer as wide as Real (unsigned: shifts wrap, never overflow)
constexpr int kMantissaBits = 52;   // Real = sign | exponent | mantissa
constexpr RealBits kExponentBias = 1023;
constexpr int kExpTerms = 13;       // (ln2/2)^13 / 13! ≈ 2e-16
constexpr Real kExpMaxArg = 708;    // e^±708 is still a normal double
#else
using RealBits = uint32_t;
constexpr int kMantissaBits = 23;
constexpr RealBits kExponentBias = 127;
constexpr int kExpTerms = 7;        // (ln2/2)^7 / 7! ≈ 1e-7
constexpr Real kExpMaxArg = 87;     // e^±87 is still a normal float
#endif
// 1/k, for the Taylor series written the Horner way: 1 + r (1 + r/2 (1 + r/3 (… (1 + r/(K-1)))))
constexpr Real kInverse[] = {0, 1, 1 / 2., 1 / 3., 1 / 4., 1 / 5., 1 / 6., 1 / 7., 1 / 8., 1 / 9., 1 / 10., 1 / 11., 1 / 12.};
static_assert(sizeof(kInverse) / sizeof(Real) >= kExpTerms, "one 1/k per Taylor term");

inline Real fast_exp(Real x) {
    x = std::fabs(x) > kExpMaxArg ? std::copysign(kExpMaxArg, x) : x;  // so that 2^n stays a normal number
    // Adding 1.5 · 2^52 (float: 1.5 · 2^23) pushes the fraction out of the mantissa: the sum is rounded to
    // an integer, and n sits in the low bits of its representation.
    const Real shifter = Real(1.5) * Real(RealBits(1) << kMantissaBits);
    const Real n_shifted = x * Real(1.4426950408889634) + shifter;  // x / ln 2 + shifter
    const Real n = n_shifted - shifter;
    // r = x - n ln2, with ln2 split into a short head (n · head is exact) and a tail, to keep r's digits.
    const Real r = (x - n * Real(0.693145751953125)) - n * Real(1.428606820309417232e-06);
    Real p = 1;
#pragma GCC unroll 16
    for (int k = kExpTerms - 1; k >= 1; --k) p = 1 + p * r * kInverse[k];
    RealBits bits;
    std::memcpy(&bits, &n_shifted, sizeof bits);
    bits = (bits + kExponentBias) << kMantissaBits;  // exponent field n + bias, mantissa 0: the bits of 2^n
    Real two_n;
    std::memcpy(&two_n, &bits, sizeof bits);
    return two_n * p;
}

inline Real fast_sigmoid(Real x) { return 1 / (1 + fast_exp(-x)); }
inline Real fast_tanh(Real x) { return 1 - 2 / (fast_exp(2 * x) + 1); }

// The pointwise half of one step, for one row (sequence b, time t) and hidden unit j. The row's gate
// pre-activations a_i, a_f, a_g, a_o are overwritten with the activations i, f, g, o.
// (__restrict promises the compiler these arrays do not overlap, so it needs no run-time overlap checks.)
inline void lstm_unit_forward(int j, Real* __restrict i, Real* __restrict f, Real* __restrict g, Real* __restrict o,
                              const Real* __restrict c_prev, Real* __restrict c, Real* __restrict tanh_c,
                              Real* __restrict h) {
    i[j] = fast_sigmoid(i[j]);
    f[j] = fast_sigmoid(f[j]);
    g[j] = fast_tanh(g[j]);
    o[j] = fast_sigmoid(o[j]);
    c[j] = f[j] * c_prev[j] + i[j] * g[j];  // c_t = f ⊙ c_{t-1} + i ⊙ g
    tanh_c[j] = fast_tanh(c[j]);
    h[j] = o[j] * tanh_c[j];                // h_t = o ⊙ tanh(c_t)
}

// The same for all H units of the row. Three compiler details make this loop SIMD code:
//   - at -O2 GCC vectorizes a loop only when its trip count is a known multiple of the vector width, so the
//     units go in blocks of a fixed 16, then the rest one by one;
//   - the row functions are kept out of line (noinline): inlined into their caller, they lose the
//     non-overlap promise of their __restrict parameters and GCC gives up on them;
//   - target_clones compiles the function three times, for AVX-512 (16 floats at once), AVX2 (8) and plain
//     x86-64 (4), and the program picks the best one the CPU has when it starts.
[[gnu::noinline, gnu::target_clones("avx512f", "avx2", "default")]]
void lstm_row_forward(int H, Real* __restrict i, Real* __restrict f, Real* __restrict g, Real* __restrict o,
                      const Real* __restrict c_prev, Real* __restrict c, Real* __restrict tanh_c, Real* __restrict h) {
    int j = 0;
    for (; j + 16 <= H; j += 16)
        for (int k = 0; k < 16; ++k) lstm_unit_forward(j + k, i, f, g, o, c_prev, c, tanh_c, h);
    for (; j < H; ++j) lstm_unit_forward(j, i, f, g, o, c_prev, c, tanh_c, h);
}

// Its backward (the derivatives are listed above lstm_recurrence). dh_out is the gradient of the output h_t,
// dh the one arriving through step t+1; dc arrives as d loss / d c_t and leaves as d loss / d c_{t-1}.
inline void lstm_unit_backward(int j, const Real* __restrict i, const Real* __restrict f, const Real* __restrict g,
                               const Real* __restrict o, const Real* __restrict c_prev, const Real* __restrict tanh_c,
                               const Real* __restrict dh_out, const Real* __restrict dh, Real* __restrict dc,
                               Real* __restrict da_i, Real* __restrict da_f, Real* __restrict da_g,
                               Real* __restrict da_o) {
    const Real dh_j = dh_out[j] + dh[j];
    const Real dc_j = dc[j] + dh_j * o[j] * (1 - tanh_c[j] * tanh_c[j]);
    da_i[j] = dc_j * g[j] * i[j] * (1 - i[j]);
    da_f[j] = dc_j * c_prev[j] * f[j] * (1 - f[j]);
    da_g[j] = dc_j * i[j] * (1 - g[j] * g[j]);
    da_o[j] = dh_j * tanh_c[j] * o[j] * (1 - o[j]);
    dc[j] = dc_j * f[j];
}

[[gnu::noinline, gnu::target_clones("avx512f", "avx2", "default")]]
void lstm_row_backward(int H, const Real* __restrict i, const Real* __restrict f, const Real* __restrict g,
                       const Real* __restrict o, const Real* __restrict c_prev, const Real* __restrict tanh_c,
                       const Real* __restrict dh_out, const Real* __restrict dh, Real* __restrict dc,
                       Real* __restrict da_i, Real* __restrict da_f, Real* __restrict da_g, Real* __restrict da_o) {
    int j = 0;
    for (; j + 16 <= H; j += 16)
        for (int k = 0; k < 16; ++k)
            lstm_unit_backward(j + k, i, f, g, o, c_prev, tanh_c, dh_out, dh, dc, da_i, da_f, da_g, da_o);
    for (; j < H; ++j) lstm_unit_backward(j, i, f, g, o, c_prev, tanh_c, dh_out, dh, dc, da_i, da_f, da_g, da_o);
}

}  // namespace

// ---------------------------------------------------------------- the fused recurrence
//
// Forward. First the input projection of every step at once, xw = x · Wx + b, one product (B·T, D) · (D, 4H)
// that does not wait for h; it is written straight into the gates buffer, with the linear op's own code
// (linear_forward, autodiff/kernels.h), so no (B, T, 4H) tensor of its own is made or copied. Then for
// t = 0 .. T-1 (the state before step 0 is h0, c0):
//   a_t = xw[:, t, :] + h_{t-1} · Wh                     one gemm per step, (B, H) · (H, 4H)
//   i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)        pointwise, in place over a_t
//   c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
//
// Backward, for t = T-1 down to 0, carrying dh and dc (the gradients reaching h_t and c_t from later steps):
//   dh   = dhs[:, t, :] + (dh from step t+1)                (h_t is an output AND feeds step t+1)
//   do   = dh ⊙ tanh(c_t)
//   dc   = (dc from step t+1) + dh ⊙ o ⊙ (1 - tanh²(c_t))
//   di   = dc ⊙ g,   dg = dc ⊙ i,   df = dc ⊙ c_{t-1}
//   da   = [di ⊙ i(1-i), df ⊙ f(1-f), dg ⊙ (1-g²), do ⊙ o(1-o)]    (σ' = σ(1-σ), tanh' = 1 - tanh²)
//   dc_{t-1} = dc ⊙ f,   dh_{t-1} = da · Whᵀ               one gemm per step, (B, 4H) · (4H, H)
// and once after the loop, because a_t = xw_t + h_{t-1} · Wh for every t:
//   dWh = Σ_t h_{t-1}ᵀ · da_t = H_prevᵀ · da   ONE gemm, (H, B·T) · (B·T, 4H)
// where H_prev (B, T, H) stacks the h_{t-1} that entered each step; then the projection's gradients from
// dxw = da (all steps), the linear op's backward (linear_backward): db = Σ_rows da, dx = da · Wxᵀ,
// dWx = xᵀ · da. The dh, dc left over are dh0, dc0. Each number is the one a linear op followed by the
// recurrence on xw would give, bit for bit (the same calls in the same order).
//
// The final cell state. The recurrence has two outputs the loss may use: hs, and c_{T-1} (a decoder starts
// from the encoder's final state). A tape node has one value, so the op records two nodes:
//   the main node, value hs, which does all the work above;
//   a small "lstm_c_last" node, value c_{T-1}, whose only input is the main node.
// It is recorded later, so its backward runs first: it stores its gradient in a buffer shared with the main
// node (dc_last), and the main node starts its backward sweep from dc = dc_last instead of zeros. (The final
// h needs no such care: it is select(hs, 1, T-1), an ordinary op whose backward adds into dhs.)
// This keeps hs itself a plain (B, T, H) tensor with no copies, and costs one (B, H) buffer.
LSTMRecurrence lstm_recurrence(const Var& x, const Var& Wx, const Var& b, const Var& Wh, const Var& h0, const Var& c0) {
    if (Wh.ndim() != 2 || Wh.dim(1) != 4 * Wh.dim(0)) shape_error("lstm_recurrence", "Wh must be (H, 4H)", {Wh.shape()});
    const int H = Wh.dim(0), G = 4 * H;
    if (x.ndim() != 3 || x.dim(1) < 1 || Wx.ndim() != 2 || Wx.dim(0) != x.dim(2) || Wx.dim(1) != G || b.shape() != Shape{G})
        shape_error("lstm_recurrence", "x must be (B, T, D) with T >= 1, Wx (D, 4H) and b (4H), for Wh (H, 4H)",
                    {x.shape(), Wx.shape(), b.shape(), Wh.shape()});
    const int B = x.dim(0), T = x.dim(1), D = x.dim(2);
    if (h0.shape() != Shape{B, H} || c0.shape() != Shape{B, H})
        shape_error("lstm_recurrence", "h0 and c0 must be (B, H), for x (B, T, D)", {x.shape(), h0.shape(), c0.shape()});

    // Saved for backward:
    Tensor gates = Tensor::uninitialized(Shape{B, T, G});       // (B, T, 4H): xw, then each step turns its row into i, f, g, o
    Tensor cells = Tensor::uninitialized(Shape{B, T, H});       // (B, T, H):  c_t
    Tensor tanh_cells = Tensor::uninitialized(Shape{B, T, H});  // (B, T, H):  tanh(c_t)
    Tensor hs = Tensor::uninitialized(Shape{B, T, H});          // (B, T, H):  h_t, the output

    linear_forward(B * T, G, D, x.value().ptr(), Wx.value().ptr(), b.value().ptr(), gates.ptr());  // xw = x · Wx + b
    const Real* wh = Wh.value().ptr();
    for (int t = 0; t < T; ++t) {
        // a_t = xw_t + h_{t-1} · Wh. h_{t-1} is row t-1 of hs, read in place: its rows are T·H apart.
        const Real* h_prev = t == 0 ? h0.value().ptr() : hs.ptr() + int64_t(t - 1) * H;
        const int h_stride = t == 0 ? H : T * H;
        gemm(false, false, B, G, H, 1, h_prev, h_stride, wh, G, 1, gates.ptr() + int64_t(t) * G, T * G);
        parallel_for(B, [&](int b) {  // the rows are independent: shared among the cores, like the product
            const int64_t row = int64_t(b) * T + t;  // (b, t)
            Real* a = gates.ptr() + row * G;         // this row's [a_i, a_f, a_g, a_o] → [i, f, g, o]
            const Real* c_prev = t == 0 ? c0.value().ptr() + int64_t(b) * H : cells.ptr() + (row - 1) * H;
            Real *c = cells.ptr() + row * H, *tc = tanh_cells.ptr() + row * H, *h = hs.ptr() + row * H;
            lstm_row_forward(H, a, a + H, a + 2 * H, a + 3 * H, c_prev, c, tc, h);
        });
    }

    // c_{T-1} (B, H), the second output, copied out of the saved cells.
    Tensor c_last = Tensor::uninitialized(Shape{B, H});
    for (int b = 0; b < B; ++b)
        std::copy_n(cells.ptr() + (int64_t(b) * T + T - 1) * H, H, c_last.ptr() + int64_t(b) * H);

    // Shared by the two nodes: d loss / d c_{T-1}, filled by the c_last node's backward (empty if unused).
    auto dc_last = std::make_shared<Tensor>();

    // The saved tensors are moved into the backward function, not copied.
    Var hs_var = record("lstm_recurrence", std::move(hs), {x, Wx, b, Wh, h0, c0},
                        [x, Wx, b, Wh, h0, c0, gates = std::move(gates), cells = std::move(cells),
                         tanh_cells = std::move(tanh_cells), dc_last, B, T, H, G](Node& out) {
        const Real* dhs = out.grad.ptr();  // (B, T, H)
        const Real* wh = Wh.value().ptr();
        Tensor da = Tensor::uninitialized(Shape{B, T, G});  // (B, T, 4H): d loss / d a_t for every step (= d loss / d xw)
        Tensor dh(Shape{B, H});                             // (B, H): d loss / d h_t arriving from step t+1 through Wh
        Tensor dc = dc_last->empty() ? Tensor(Shape{B, H}) : *dc_last;  // (B, H): d loss / d c_t
        for (int t = T - 1; t >= 0; --t) {
            parallel_for(B, [&](int b) {  // each row reads and writes only its own
                const int64_t row = int64_t(b) * T + t;
                const Real* act = gates.ptr() + row * G;  // i, f, g, o
                const Real* c_prev = t == 0 ? c0.value().ptr() + int64_t(b) * H : cells.ptr() + (row - 1) * H;
                const Real *tc = tanh_cells.ptr() + row * H, *dh_out = dhs + row * H, *dh_b = dh.ptr() + int64_t(b) * H;
                Real *d = da.ptr() + row * G, *dc_b = dc.ptr() + int64_t(b) * H;
                lstm_row_backward(H, act, act + H, act + 2 * H, act + 3 * H, c_prev, tc, dh_out, dh_b, dc_b, d, d + H,
                                  d + 2 * H, d + 3 * H);
            });
            // dh_{t-1} (B, H) = da_t (B, 4H) · Whᵀ; not needed at t = 0 unless h0 wants its gradient.
            if (t > 0 || h0.requires_grad())
                gemm(false, true, B, H, G, 1, da.ptr() + int64_t(t) * G, T * G, wh, G, 0, dh.ptr(), H);
        }
        if (h0.requires_grad()) h0.grad() += dh;
        if (c0.requires_grad()) c0.grad() += dc;
        if (Wh.requires_grad()) {
            // H_prev (B, T, H): row (b, t) is h_{t-1} of sequence b, i.e. h0[b] for t = 0, else hs[b, t-1].
            Tensor h_prev = Tensor::uninitialized(Shape{B, T, H});
            const Real *hs = out.value.ptr(), *h0v = h0.value().ptr();
            for (int b = 0; b < B; ++b) {
                Real* dst = h_prev.ptr() + int64_t(b) * T * H;
                std::copy_n(h0v + int64_t(b) * H, H, dst);
                std::copy_n(hs + int64_t(b) * T * H, int64_t(T - 1) * H, dst + H);
            }
            // dWh (H, 4H) += H_prevᵀ (H, B·T) · da (B·T, 4H)
            gemm(true, false, H, G, B * T, 1, h_prev.ptr(), H, da.ptr(), G, 1, Wh.grad().ptr(), G);
        }
        // xw = x · Wx + b: its gradient da, through the linear op's backward
        if (x.requires_grad() || Wx.requires_grad() || b.requires_grad()) linear_backward(x, Wx, b, da.ptr());
    });

    // The second node's backward only hands its gradient over to the main node.
    Var c_last_var = record("lstm_c_last", std::move(c_last), {hs_var}, [hs_var, dc_last](Node& out) {
        if (dc_last->empty()) *dc_last = Tensor(out.grad.shape);
        *dc_last += out.grad;
        hs_var.grad();  // makes sure the main node's backward runs even if the loss never used hs
    });
    return {hs_var, c_last_var};
}

}  // namespace s2a
