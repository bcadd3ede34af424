// exercises/checks/attention_weight_dot.cpp — the cases of the attention_weight_dot exercise: yours against the
// library's AttentionWeight with the dot score (nn/attention.cpp), on seeded random shapes and padding masks.
//
// Dimensions: B batch, Tq query steps, S source steps, H vector size.
#include "exercises/exercise.h"
#include "nn/attention.h"

namespace s2a::exercise {

Exercise the_exercise() {
    Exercise ex{"attention_weight_dot", "docs/ch3_attention.md", "AttentionWeight (Score::Dot) in nn/attention.cpp",
                "backward", {}, {}};
    Rng rng(13);
    // lengths: the real tokens of each sentence (the rest of its S positions are padding); all S: no mask.
    auto add = [&](int Tq, int S, int H, const std::vector<int>& lengths, const std::string& what) {
        const int B = static_cast<int>(lengths.size());
        const Tensor mask = lengths_mask(lengths, S);  // (B, S)
        bool masked = false;
        for (int n : lengths) masked = masked || n < S;
        ex.cases.push_back({what, {random_input("q", Shape{B, Tq, H}, rng), random_input("hs", Shape{B, S, H}, rng)},
                            [mask](const std::vector<Var>& in) { return exercise::attention_weight_dot(in[0], in[1], mask); },
                            [mask, H](const std::vector<Var>& in) {
                                Rng unused(0);  // the dot score has no parameters to draw
                                return AttentionWeight(Score::Dot, H, H, unused).forward(in[0], in[1], &mask);
                            },
                            masked});
    };
    add(3, 5, 4, {5, 5}, "no padding");
    add(2, 6, 3, {6, 4, 1}, "padded sentences");
    add(4, 4, 4, {4, 2}, "square, padded");
    add(1, 5, 2, {0, 3}, "Tq = 1; sentence 0 is all padding");
    for (int k = 0; k < 2; ++k) {  // shapes drawn at random, every size in 1..5, each sentence's length in 0..S
        const int Tq = 1 + rng.randint(5), S = 1 + rng.randint(5), H = 1 + rng.randint(5);
        std::vector<int> lengths(1 + rng.randint(3));
        for (int& n : lengths) n = rng.randint(S + 1);
        add(Tq, S, H, lengths, "a random shape and padding");
    }
    ex.hints = {{"forward", "the forward is given: if it fails, restore it from exercises/solutions/attention_weight_dot.cpp"},
                {"q", "de first, per row (b, t): de = a ⊙ (da - Σⱼ daⱼ aⱼ), the softmax Jacobian's diagonal a ⊙ da included; "
                      "then dq_b = de_b · hs_b, (Tq, S) · (S, H): a sum over s of de[b, t, s] hs[b, s]. Using da where de "
                      "belongs skips the softmax"},
                {"hs", "dhs_b = de_bᵀ · q_b: dhs[b, s] = Σₜ de[b, t, s] q[b, t], a sum over the query steps t (a missing "
                       "transpose, or = instead of +=, keeps one t). A padded s has a = 0, so de = 0 there: no extra code"}};
    return ex;
}

}  // namespace s2a::exercise
