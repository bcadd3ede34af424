// nn/conv.h — Conv2d, the convolution layer, and CNNEncoder, a small stack of them that turns an image into a
// grid of feature vectors: the encoder states an attention decoder reads (Xu et al., 2015, "Show, Attend and
// Tell": the decoder attends over the positions of a convolutional feature map instead of over words).
//
// Dimensions (channels last, as the ops in autodiff/ops_conv2d.cpp):
//   B        batch                         H, W     image height and width (pixels)
//   C        input channels                F        filters: output channels
//   k        kernel size (k × k)           Ho, Wo   the feature map's height and width
//   L        grid positions, Ho · Wo       D        the size of each grid vector (the last block's filters)
//
// A convolution slides the same small filter over every position: a k×k×C patch of the image dotted with
// each of F filters gives F numbers at that position. Sharing one filter everywhere is the whole prior: what
// makes a red edge a red edge does not depend on where it is. The layer's gradients come from the conv2d op
// (im2col, one product, col2im), with dY (B, Ho, Wo, F):
//   dWt = colsᵀ · dY   (k·k·C, F)   summed over every position of every image: all used the same filter
//   db  = Σ dY         (F)
//   dX  = col2im(dY · Wtᵀ)
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "autodiff/tape.h"
#include "nn/module.h"

namespace s2a {

class Conv2d : public Module {
  public:
    // Weights (k, k, C, F) drawn with He (Kaiming) initialisation, N(0, 2 / fan_in) with fan_in = k·k·C:
    // a ReLU zeroes half of its inputs on average, so the variance that keeps activations at one scale
    // through the layers is twice Xavier's 1 / fan_in (He et al., 2015). Bias: zeros.
    // Throws std::invalid_argument for sizes < 1 or padding < 0.
    Conv2d(int C, int F, int k, Rng& rng, int stride = 1, int padding = 0);

    // x (B, H, W, C) → (B, Ho, Wo, F). Throws ShapeError naming conv2d and the shapes when x does not fit.
    Var forward(const Var& x) const;

    int in, out, kernel, stride, padding;
    Var Wt;  // (k, k, C, F), parameter "W"
    Var b;   // (F), parameter "b"
};

// Blocks of  conv 3×3 (padding 1, so the size is kept) → ReLU → max-pool 2×2  (each halves H and W),
// one per entry of `channels`, then a last conv 3×3 → ReLU with D filters, flattened to the grid:
//   x (B, H, W, C) → grid (B, L, D),  L = (H / 2^blocks) · (W / 2^blocks)
// Row l = i · Wo + j of the grid is the feature vector of cell (i, j), which sees a patch of the image
// around it (the receptive field grows by 2 pixels per conv and doubles per pool).
class CNNEncoder : public Module {
  public:
    // Throws std::invalid_argument when a size is < 1; forward throws ShapeError when the image is too small
    // for the pools.
    CNNEncoder(int C, const std::vector<int>& channels, int D, Rng& rng);

    Var forward(const Var& x) const;  // x (B, H, W, C) → grid (B, L, D)
    // The grid's (Ho, Wo) for an H × W image: H and W halved once per block, rounded down.
    std::pair<int, int> grid_size(int H, int W) const;

    int out;  // D

  private:
    std::vector<std::unique_ptr<Conv2d>> blocks_;  // the pooled blocks
    Conv2d last_;
};

}  // namespace s2a
