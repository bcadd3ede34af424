// tests/test_conv.cpp — im2col, conv2d and max_pool2d (autodiff/ops_conv2d.cpp), the Conv2d layer and the CNN
// encoder (nn/conv.h): values against a plain seven-loop convolution, gradient checks in double over seeded
// random shapes (stride 1 and 2, padding 0 and 1), max-pool ties, and the errors for shapes that do not fit.
//
// Dimensions: B batch, H × W image, C channels in, F filters, k kernel, s stride, p padding.
#include <doctest/doctest.h>

#include <cmath>

#include "autodiff/ops.h"
#include "nn/conv.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// The convolution as its definition, one multiply-add at a time: the reference conv2d is held to.
// x (B, H, W, C), w (k, k, C, F), b (F) → (B, Ho, Wo, F).
Tensor conv2d_naive(const Tensor& x, const Tensor& w, const Tensor& b, int s, int p) {
    const int B = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3), KH = w.dim(0), KW = w.dim(1), F = w.dim(3);
    const int Ho = (H + 2 * p - KH) / s + 1, Wo = (W + 2 * p - KW) / s + 1;
    Tensor y(Shape{B, Ho, Wo, F});
    for (int n = 0; n < B; ++n)
        for (int i = 0; i < Ho; ++i)
            for (int j = 0; j < Wo; ++j)
                for (int f = 0; f < F; ++f) {
                    double acc = b[f];
                    for (int u = 0; u < KH; ++u)
                        for (int v = 0; v < KW; ++v)
                            for (int c = 0; c < C; ++c) {
                                const int yy = i * s + u - p, xx = j * s + v - p;
                                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;  // the zero padding
                                acc += x[((int64_t(n) * H + yy) * W + xx) * C + c] * w[((u * KW + v) * C + c) * F + f];
                            }
                    y[((int64_t(n) * Ho + i) * Wo + j) * F + f] = static_cast<Real>(acc);
                }
    return y;
}

struct ConvCase {
    int B, H, W, C, F, k, stride, padding;
    std::string str() const {
        return fmt::format("x ({}, {}, {}, {}), k {}, F {}, stride {}, padding {}", B, H, W, C, k, F, stride, padding);
    }
};

// Seeded random shapes for every (stride, padding) pair, kernels 1 to 3, images just big enough or larger.
std::vector<ConvCase> conv_cases() {
    std::vector<ConvCase> cases;
    Rng rng(17);
    for (int stride : {1, 2})
        for (int padding : {0, 1})
            for (int rep = 0; rep < 3; ++rep) {
                const int k = 1 + rng.randint(3);
                cases.push_back({1 + rng.randint(2), k + rng.randint(4), k + rng.randint(5), 1 + rng.randint(3),
                                 1 + rng.randint(3), k, stride, padding});
            }
    return cases;
}

}  // namespace

TEST_CASE("conv2d: im2col and one product equal the plain seven loops") {
    for (const ConvCase& c : conv_cases()) {
        INFO(c.str());
        Rng rng(c.H * 31 + c.W);
        const Tensor x = randn(Shape{c.B, c.H, c.W, c.C}, rng), w = randn(Shape{c.k, c.k, c.C, c.F}, rng),
                     b = randn(Shape{c.F}, rng);
        const Var y = conv2d(constant(x), constant(w), constant(b), c.stride, c.padding);
        const Tensor ref = conv2d_naive(x, w, b, c.stride, c.padding);
        CHECK(max_abs_diff(y.value(), ref) < 1e-12);
    }
}

TEST_CASE("conv2d: a 2×2 kernel by hand, stride 2, and padding's zeros") {
    // x (1, 2, 2, 1) = [[1, 2], [3, 4]], one filter [[1, 0], [0, -1]] (the diagonal difference), bias 0.5.
    const Var x = constant(Tensor::from(Shape{1, 2, 2, 1}, {1, 2, 3, 4}));
    const Var w = constant(Tensor::from(Shape{2, 2, 1, 1}, {1, 0, 0, -1}));
    const Var b = constant(Tensor::from(Shape{1}, {0.5}));
    CHECK(conv2d(x, w, b).value().data == Storage{1 - 4 + 0.5});
    // Padding 1, stride 2: the padded image is [[0 0 0 0] [0 1 2 0] [0 3 4 0] [0 0 0 0]] and the four windows
    // start at its (0, 0), (0, 2), (2, 0), (2, 2); each sees x's pixels only where the filter has 1 or -1:
    //   (0, 0): -1·x[0][0] = -1     (0, 2): 1·0 + -1·0 = 0     (2, 0): 1·0 + -1·0 = 0     (2, 2): 1·x[1][1] = 4
    const Var y = conv2d(x, w, b, 2, 1);
    CHECK(y.shape() == Shape{1, 2, 2, 1});
    CHECK(y.value().data == Storage{-1 + 0.5, 0 + 0.5, 0 + 0.5, 4 + 0.5});
}

TEST_CASE("gradcheck: conv2d over x, weights and bias, stride 1 and 2, padding 0 and 1") {
    int checked = 0;
    for (const ConvCase& c : conv_cases()) {
        Rng rng(c.B * 7 + c.C * 3 + c.k);
        const std::vector<Var> in = {parameter(randn(Shape{c.B, c.H, c.W, c.C}, rng), "x"),
                                     parameter(randn(Shape{c.k, c.k, c.C, c.F}, rng), "W"),
                                     parameter(randn(Shape{c.F}, rng), "b")};
        const int s = c.stride, p = c.padding;
        check_report(gradcheck([s, p](const std::vector<Var>& v) { return conv2d(v[0], v[1], v[2], s, p); }, in), c.str());
        ++checked;
    }
    CHECK(checked == 12);
}

TEST_CASE("gradcheck: max_pool2d, disjoint and overlapping windows") {
    Rng rng(19);
    for (auto [k, s] : {std::pair{2, 2}, std::pair{3, 1}, std::pair{2, 1}, std::pair{3, 2}}) {
        const Var x = parameter(randn(Shape{2, 5 + rng.randint(2), 4 + rng.randint(3), 2}, rng), "x");  // no ties
        const int kk = k, ss = s;
        check_report(gradcheck([kk, ss](const std::vector<Var>& v) { return max_pool2d(v[0], kk, ss); }, {x}),
                     fmt::format("max_pool2d kernel {} stride {} on {}", k, s, x.shape().str()));
    }
}

TEST_CASE("max_pool2d: values, and ties go to the first of equals") {
    // One channel 4×4 image, 2×2 windows: the top-left window is all 7s, a tie.
    const Var x = parameter(Tensor::from(Shape{1, 4, 4, 1}, {7, 7, 1, 2,     //
                                                             7, 7, 3, 0,     //
                                                             -1, -2, 5, 5,   //
                                                             -3, -1, 9, 5}),
                            "x");
    const Var y = max_pool2d(x, 2, 2);
    CHECK(y.value().data == Storage{7, 3, -1, 9});
    backward(sum(y));
    // The gradient goes to the first 7 (row-major) of the tied window and to each other window's winner.
    CHECK(x.grad().data == Storage{1, 0, 0, 0,  //
                                   0, 0, 1, 0,  //
                                   1, 0, 0, 0,  //
                                   0, 0, 1, 0});
    tape().clear();
}

TEST_CASE("conv2d and max_pool2d: shapes that do not fit give one clear line") {
    const Var x = constant(Tensor(Shape{1, 4, 4, 3}));
    const Var w3 = constant(Tensor(Shape{3, 3, 3, 2})), b2 = constant(Tensor(Shape{2}));
    CHECK(contains(shape_error_of([&] { conv2d(x, constant(Tensor(Shape{3, 3, 2, 2})), b2); }), "conv2d"));  // C differs
    CHECK(contains(shape_error_of([&] { conv2d(x, w3, constant(Tensor(Shape{3}))); }), "bias (F)"));
    CHECK(contains(shape_error_of([&] { conv2d(constant(Tensor(Shape{4, 4, 3})), w3, b2); }), "(B, H, W, C)"));
    const std::string big = shape_error_of([&] { conv2d(x, constant(Tensor(Shape{6, 6, 3, 2})), b2); });
    CHECK(contains(big, "height 4 plus padding 2·0 is smaller than the kernel 6"));
    CHECK(conv2d(x, constant(Tensor(Shape{6, 6, 3, 2})), b2, 1, 1).shape() == Shape{1, 1, 1, 2});  // padding makes room
    CHECK(contains(error_of([&] { conv2d(x, w3, b2, 0); }), "stride 0 must be at least 1"));
    CHECK(contains(shape_error_of([&] { max_pool2d(x, 5, 1); }), "max_pool2d: the height 4"));
}

TEST_CASE("Conv2d: He initialisation, forward shape, gradient of the layer") {
    Rng rng(21);
    const Conv2d wide(32, 64, 3, rng);  // fan_in = 288: the sample std of 18,432 weights is within 3% of √(2/288)
    double sq = 0;
    for (Real w : wide.Wt.value().data) sq += double(w) * w;
    const double sample_std = std::sqrt(sq / double(wide.Wt.numel()));
    CHECK(sample_std == doctest::Approx(std::sqrt(2.0 / 288)).epsilon(0.03));
    CHECK(wide.b.value().data == Storage(64, 0));

    Conv2d conv(2, 3, 3, rng, 2, 1);
    randomize(conv, rng);
    const Var x = parameter(randn(Shape{2, 5, 6, 2}, rng), "x");
    CHECK(conv.forward(x).shape() == Shape{2, 3, 3, 3});
    std::vector<Var> in = conv.parameters();
    in.push_back(x);
    check_report(gradcheck([&](const std::vector<Var>& v) { return conv.forward(v.back()); }, in), "Conv2d");
    CHECK(contains(error_of([&] { Conv2d(0, 3, 3, rng); }), "Conv2d: channels 0 → 3"));
}

TEST_CASE("CNNEncoder: the grid's shape, and its gradient through conv, ReLU and pooling") {
    Rng rng(23);
    const CNNEncoder cnn(3, {4, 5}, 6, rng);  // two pooled blocks: 8×12 → 2×3 grid of 6 features
    CHECK(cnn.grid_size(8, 12) == std::pair{2, 3});
    const Var x = parameter(randn(Shape{2, 8, 12, 3}, rng), "x");
    CHECK(cnn.forward(x).shape() == Shape{2, 6, 6});
    CHECK(cnn.named_parameters().size() == 6);  // block0.W, block0.b, block1.W, block1.b, last.W, last.b
    std::vector<Var> in = cnn.parameters();
    in.push_back(x);
    GradcheckOptions opt;
    opt.max_elements = 64;
    check_report(gradcheck([&](const std::vector<Var>& v) { return cnn.forward(v.back()); }, in, opt), "CNNEncoder");
}
