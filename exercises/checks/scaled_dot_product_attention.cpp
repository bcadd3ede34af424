// exercises/checks/scaled_dot_product_attention.cpp — the cases of the scaled_dot_product_attention exercise: your
// forward against the library's scaled_dot_product_attention (nn/transformer.cpp), with no mask, a padding mask,
// a causal mask and both combined, on seeded random shapes; then the gradient check of what your ops recorded.
//
// Dimensions: B batch, h heads, Tq query steps, Tk key steps, dk query/key width, dv value width.
#include "exercises/exercise.h"
#include "nn/transformer.h"

namespace s2a::exercise {

namespace {

// (B, 1, 1, Tk): key j of sentence b is real for j < lengths[b], padding after.
Tensor padding(const std::vector<int>& lengths, int Tk) {
    IndexTensor ids(Shape{static_cast<int>(lengths.size()), Tk});  // 1 = a real token, 0 = padding
    for (size_t b = 0; b < lengths.size(); ++b)
        for (int j = 0; j < lengths[b]; ++j) ids[int64_t(b) * Tk + j] = 1;
    return padding_mask(ids, 0);
}

}  // namespace

Exercise the_exercise() {
    Exercise ex{"scaled_dot_product_attention", "docs/ch5_transformer.md",
                "scaled_dot_product_attention in nn/transformer.cpp", "forward", {}, {}};
    Rng rng(17);
    // mask: empty for none
    auto add = [&](int B, int h, int Tq, int Tk, int dk, int dv, const Tensor& mask, const std::string& what) {
        const bool masked = !mask.empty();
        ex.cases.push_back({what,
                            {random_input("q", Shape{B, h, Tq, dk}, rng), random_input("k", Shape{B, h, Tk, dk}, rng),
                             random_input("v", Shape{B, h, Tk, dv}, rng)},
                            [mask, masked](const std::vector<Var>& in) {
                                return exercise::scaled_dot_product_attention(in[0], in[1], in[2], masked ? &mask : nullptr);
                            },
                            [mask, masked](const std::vector<Var>& in) {
                                return s2a::scaled_dot_product_attention(in[0], in[1], in[2], masked ? &mask : nullptr);
                            },
                            masked});
    };
    add(2, 2, 3, 4, 4, 3, Tensor(), "no mask");
    add(2, 1, 3, 5, 2, 2, padding({5, 2}, 5), "padding mask (B, 1, 1, Tk)");
    add(1, 2, 4, 4, 3, 2, causal_mask(4), "causal mask (Tq, Tk)");
    add(2, 2, 3, 3, 2, 3, combine_masks(padding({3, 0}, 3), causal_mask(3)), "causal and padding; sentence 1 all padding");
    add(1, 1, 2, 6, 8, 1, Tensor(), "dk = 8: the scale 1/√dk matters");
    for (int k = 0; k < 2; ++k) {  // shapes drawn at random, every size in 1..4, each sentence's length in 0..Tk
        const int B = 1 + rng.randint(3), h = 1 + rng.randint(3), Tq = 1 + rng.randint(4), Tk = 1 + rng.randint(4),
                  dk = 1 + rng.randint(4), dv = 1 + rng.randint(4);
        std::vector<int> lengths(B);
        for (int& n : lengths) n = rng.randint(Tk + 1);
        add(B, h, Tq, Tk, dk, dv, padding(lengths, Tk), "a random shape and padding");
    }
    ex.hints = {{"forward", "softmax(q kᵀ / √dk, mask) v: the scores need k transposed (bmm(q3, k3, false, true)), the "
                            "scale is 1/√dk (not 1/dk, not √dk), the mask goes into softmax (a forgotten mask fails only the "
                            "masked cases), and the weights multiply v (not k)"},
                {"q", "your forward is built from ops, so its gradients should be right once it is: fix the forward first"},
                {"k", "as for q: fix the forward first"},
                {"v", "as for q: fix the forward first"}};
    return ex;
}

}  // namespace s2a::exercise
