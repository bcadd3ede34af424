// exercises/checks/attention_weight_additive.cpp — the cases of the attention_weight_additive exercise: your layer
// (the given projections and softmax around your score op) against the library's AttentionWeight with the
// additive score (nn/attention.cpp), its parameters set to the same W1, W2, v, on seeded random shapes and
// padding masks.
//
// Dimensions: B batch, Tq query steps, S source steps, Hq query size, Hk source size, A inner size.
#include "exercises/exercise.h"
#include "nn/attention.h"

namespace s2a::exercise {

Exercise the_exercise() {
    Exercise ex{"attention_weight_additive", "docs/ch3_attention.md",
                "additive_scores in nn/fused_additive_scores.cpp, inside AttentionWeight (nn/attention.cpp)", "backward", {}, {}};
    Rng rng(14);
    auto add = [&](int Tq, int S, int Hq, int Hk, int A, const std::vector<int>& lengths, const std::string& what) {
        const int B = static_cast<int>(lengths.size());
        const Tensor mask = lengths_mask(lengths, S);  // (B, S)
        bool masked = false;
        for (int n : lengths) masked = masked || n < S;
        ex.cases.push_back(
            {what,
             {random_input("q", Shape{B, Tq, Hq}, rng), random_input("hs", Shape{B, S, Hk}, rng),
              random_input("W1", Shape{Hq, A}, rng), random_input("W2", Shape{Hk, A}, rng), random_input("v", Shape{A}, rng)},
             [mask](const std::vector<Var>& in) { return exercise::attention_weight_additive(in[0], in[1], in[2], in[3], in[4], mask); },
             [mask, Hq, Hk, A](const std::vector<Var>& in) {
                 Rng unused(0);  // the parameters drawn here are overwritten with the case's W1, W2, v
                 AttentionWeight layer(Score::Additive, Hq, Hk, unused, A);
                 for (auto& [name, p] : layer.named_parameters())
                     p.value() = (name == "W1" ? in[2] : name == "W2" ? in[3] : in[4]).value();
                 return layer.forward(in[0], in[1], &mask);
             },
             masked});
    };
    add(3, 4, 5, 5, 3, {4, 4}, "no padding");
    add(2, 5, 3, 4, 6, {5, 2, 3}, "padded sentences, Hq ≠ Hk");
    add(1, 4, 2, 3, 4, {0, 4}, "Tq = 1; sentence 0 is all padding");
    for (int k = 0; k < 2; ++k) {  // shapes drawn at random, every size in 1..4, each sentence's length in 0..S
        const int Tq = 1 + rng.randint(4), S = 1 + rng.randint(4), Hq = 1 + rng.randint(4), Hk = 1 + rng.randint(4),
                  A = 1 + rng.randint(4);
        std::vector<int> lengths(1 + rng.randint(3));
        for (int& n : lengths) n = rng.randint(S + 1);
        add(Tq, S, Hq, Hk, A, lengths, "a random shape and padding");
    }
    ex.hints = {{"forward", "the forward is given: if it fails, restore it from exercises/solutions/attention_weight_additive.cpp"},
                {"v", "dv += de · hidden, summed over every pair (b, t, s)"},
                {"q", "q's gradient comes from dqW1 through the given matmul: g = de · v ⊙ (1 - hidden²), with hidden the "
                      "saved tanh (tanh' = 1 - tanh², not 1 - (x + y)²), added into dqW1[b, t] for every s"},
                {"W1", "W1's gradient comes from dqW1: check it as for q"},
                {"hs", "hs's gradient comes from dkW2: the same g as for dqW1, added into dkW2[b, s] for every t (a sum over "
                       "the query steps)"},
                {"W2", "W2's gradient comes from dkW2: check it as for hs"}};
    return ex;
}

}  // namespace s2a::exercise
