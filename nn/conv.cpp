// nn/conv.cpp — the convolution layer and the small CNN encoder; the arithmetic is the conv2d and
// max_pool2d ops (autodiff/ops_conv2d.cpp).
#include "nn/conv.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "autodiff/ops.h"
#include "nn/init.h"

namespace s2a {

Conv2d::Conv2d(int C, int F, int k, Rng& rng, int stride_, int padding_)
    : in(C), out(F), kernel(k), stride(stride_), padding(padding_) {
    if (C < 1 || F < 1 || k < 1 || stride < 1 || padding < 0)
        throw std::invalid_argument(fmt::format("Conv2d: channels {} → {}, kernel {} and stride {} must be at least 1, "
                                                "padding {} at least 0", C, F, k, stride, padding));
    const double fan_in = double(k) * k * C;
    Wt = add_parameter("W", init_normal(Shape{k, k, C, F}, static_cast<Real>(std::sqrt(2 / fan_in)), rng));
    b = add_parameter("b", init_zeros(Shape{F}));
}

Var Conv2d::forward(const Var& x) const { return conv2d(x, Wt, b, stride, padding); }  // (B, Ho, Wo, F)

namespace {
std::unique_ptr<Conv2d> conv3x3(int C, int F, Rng& rng) { return std::make_unique<Conv2d>(C, F, 3, rng, 1, 1); }
int last_input(int C, const std::vector<int>& channels) { return channels.empty() ? C : channels.back(); }
}  // namespace

CNNEncoder::CNNEncoder(int C, const std::vector<int>& channels, int D, Rng& rng)
    : out(D), last_(last_input(C, channels), D, 3, rng, 1, 1) {
    int c_in = C;
    for (int c : channels) {
        blocks_.push_back(conv3x3(c_in, c, rng));  // throws for a size < 1
        add_child(fmt::format("block{}", blocks_.size() - 1), *blocks_.back());
        c_in = c;
    }
    add_child("last", last_);
}

std::pair<int, int> CNNEncoder::grid_size(int H, int W) const {
    for (size_t i = 0; i < blocks_.size(); ++i) H /= 2, W /= 2;
    return {H, W};
}

Var CNNEncoder::forward(const Var& x) const {
    Var h = x;                                                      // h: (B, H, W, C)
    for (const auto& conv : blocks_) h = max_pool2d(relu(conv->forward(h)), 2, 2);  // (B, H/2, W/2, c)
    h = relu(last_.forward(h));                                     // h: (B, Ho, Wo, D)
    return reshape(h, Shape{h.dim(0), h.dim(1) * h.dim(2), h.dim(3)});  // grid: (B, L, D), row l = i·Wo + j
}

}  // namespace s2a
