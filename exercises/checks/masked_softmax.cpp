// exercises/checks/masked_softmax.cpp — the cases of the masked_softmax exercise: yours against the library's
// softmax(x, mask) (autodiff/ops_nn.cpp), on seeded random shapes and masks.
//
// Dimensions: R rows, n the row length (the last axis).
#include "autodiff/ops.h"
#include "exercises/exercise.h"

namespace s2a::exercise {

Exercise the_exercise() {
    Exercise ex{"masked_softmax", "docs/ch0_tape.md", "softmax(x, mask) in autodiff/ops_nn.cpp", "backward", {}, {}};
    Rng rng(11);
    // The same op on x, for a mask that hides nothing, one drawn at random, or one with hand-picked rows.
    auto add = [&](const Shape& s, const Tensor& mask, bool masked, const std::string& what) {
        ex.cases.push_back({what, {random_input("x", s, rng)},
                            [mask](const std::vector<Var>& in) { return exercise::masked_softmax(in[0], mask); },
                            [mask](const std::vector<Var>& in) { return softmax(in[0], mask); }, masked});
    };
    add(Shape{3, 5}, Tensor(Shape{3, 5}, 1), false, "no mask");
    add(Shape{2, 4, 6}, random_mask(Shape{2, 4, 6}, rng), true, "a random mask, row 0 hidden entirely");
    add(Shape{4, 7}, random_mask(Shape{4, 7}, rng), true, "a random mask, row 0 hidden entirely");
    Tensor one_kept = Tensor::from(Shape{2, 3}, {0, 1, 0, 1, 1, 0});  // row 0: one position kept, so y = 1 there
    add(Shape{2, 3}, one_kept, true, "row 0 keeps one position");
    add(Shape{1, 9}, Tensor(Shape{1, 9}, 1), false, "no mask, one long row");
    for (int k = 0; k < 2; ++k) {  // shapes drawn at random: (R, n) with R in 1..4, n in 2..7
        const Shape s{1 + rng.randint(4), 2 + rng.randint(6)};
        add(s, random_mask(s, rng), true, "a random shape and mask");
    }
    ex.hints = {{"forward", "the forward is given: if it fails, restore it from exercises/solutions/masked_softmax.cpp"},
                {"x", "dxⱼ = yⱼ (dyⱼ - Σᵢ dyᵢ yᵢ), with the sum over one row (not the whole tensor). Usual mistakes: "
                      "only -yⱼ Σᵢ dyᵢ yᵢ (the Jacobian's diagonal yⱼ dyⱼ forgotten), only yⱼ (1 - yⱼ) dyⱼ (the "
                      "off-diagonal -yᵢ yⱼ forgotten), and = where += belongs"}};
    return ex;
}

}  // namespace s2a::exercise
