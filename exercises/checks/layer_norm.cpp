// exercises/checks/layer_norm.cpp — the cases of the layer_norm exercise: yours against the library's layer_norm
// (autodiff/ops_nn.cpp), on seeded random shapes, with gamma and beta drawn at random (not 1 and 0, so that a
// gradient that forgets γ shows).
//
// Dimensions: R rows, D features.
#include "autodiff/ops.h"
#include "exercises/exercise.h"

namespace s2a::exercise {

Exercise the_exercise() {
    Exercise ex{"layer_norm", "docs/ch5_transformer.md", "layer_norm in autodiff/ops_nn.cpp (LayerNorm, nn/transformer.h)",
                "backward", {}, {}};
    Rng rng(16);
    auto add = [&](const Shape& s) {
        const int D = s[-1];
        ex.cases.push_back({"",
                            {random_input("x", s, rng), random_input("gamma", Shape{D}, rng), random_input("beta", Shape{D}, rng)},
                            [](const std::vector<Var>& in) { return exercise::layer_norm(in[0], in[1], in[2]); },
                            [](const std::vector<Var>& in) { return s2a::layer_norm(in[0], in[1], in[2]); }});
    };
    add(Shape{3, 5});
    add(Shape{2, 3, 4});
    add(Shape{1, 8});
    add(Shape{2, 2, 2, 6});
    for (int k = 0; k < 2; ++k) add(Shape{1 + rng.randint(4), 2 + rng.randint(6)});  // drawn at random: D ≥ 2
    ex.hints = {{"forward", "the forward is given: if it fails, restore it from exercises/solutions/layer_norm.cpp"},
                {"x", "dx = rstd · (dx̂ - mean(dx̂) - x̂ ⊙ mean(dx̂ ⊙ x̂)) with dx̂ = dy ⊙ γ, means over one row. rstd · dx̂ alone "
                      "forgets that μ and σ² depend on every x of the row; dy in place of dx̂ forgets γ"},
                {"gamma", "dγ = Σ over every row of dy ⊙ x̂ (x̂ the normalised x, not x itself)"},
                {"beta", "dβ = Σ over every row of dy"}};
    return ex;
}

}  // namespace s2a::exercise
