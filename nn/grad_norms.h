// nn/grad_norms.h — how large the gradient is, parameter by parameter and layer by layer, after a backward
// pass: the measurement behind chapter 4's claim that gradients fade on their way down a deep stack.
//
// The norm of a gradient g is its L2 norm ‖g‖ = √(Σᵢ gᵢ²) over all its elements. A layer's norm is that of
// all its parameters' gradients taken as one long vector: √(Σ over the layer's parameters of ‖g‖²), so the
// per-layer numbers are on the same scale as clip_grad_norm's global norm (which is the same sum over the
// whole model).
//
//     backward(loss);
//     for (const GradNorm& g : layer_grad_norms(model, "encoder.lstm.layer"))  // encoder.lstm.layer0, 1, …
//         fmt::print("{} {:.3g}\n", g.name, g.norm);
#pragma once

#include <string>
#include <vector>

#include "nn/module.h"

namespace s2a {

struct GradNorm {
    std::string name;  // a parameter's path ("decoder.out.W") or a layer's prefix ("decoder.lstm.layer2")
    double norm;       // L2 norm of the gradient, accumulated in double
};

// One entry per parameter of the module, in named_parameters() order. A parameter the loss did not
// reach (no gradient yet) has norm 0.
std::vector<GradNorm> grad_norms(const Module& module);

// The parameters grouped by layer: those whose name is prefix + index + "." + rest, for an index of one or
// more digits, form layer `index`. One entry per index that occurs, in increasing index order, named
// prefix + index. "layer1" and "layer10" are different layers. Throws std::invalid_argument (naming the
// prefix) when no parameter matches, which usually means a misspelt prefix.
std::vector<GradNorm> layer_grad_norms(const Module& module, const std::string& prefix);

}  // namespace s2a
