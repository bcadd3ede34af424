// exercises/checks/lstm_step.cpp — the cases of the lstm_step exercise: your step against the library's textbook
// cell lstm_cell_reference (nn/lstm.cpp), both outputs side by side [h_t | c_t], on seeded random shapes.
//
// Dimensions: B batch, D input features, H hidden units.
#include "autodiff/ops.h"
#include "exercises/exercise.h"

namespace s2a::exercise {

Exercise the_exercise() {
    Exercise ex{"lstm_step", "docs/ch1_seq2seq.md", "lstm_cell_reference in nn/lstm.cpp (fast path: nn/fused_lstm.cpp)",
                "backward", {}, {}};
    Rng rng(15);
    // Both outputs in one tensor, so one gradient check covers the paths through h_t and through c_t.
    auto both = [](const LSTMState& s) { return concat({s.h, s.c}, 1); };  // (B, 2H)
    auto add = [&](int B, int D, int H) {
        ex.cases.push_back({"",
                            {random_input("x_t", Shape{B, D}, rng), random_input("h", Shape{B, H}, rng),
                             random_input("c", Shape{B, H}, rng), random_input("Wx", Shape{D, 4 * H}, rng),
                             random_input("Wh", Shape{H, 4 * H}, rng), random_input("b", Shape{4 * H}, rng)},
                            [both](const std::vector<Var>& in) { return both(exercise::lstm_step(in[0], {in[1], in[2]}, in[3], in[4], in[5])); },
                            [both](const std::vector<Var>& in) {
                                return both(lstm_cell_reference(in[0], {in[1], in[2]}, in[3], in[4], in[5]));
                            }});
    };
    add(2, 3, 4);
    add(1, 2, 3);
    add(3, 4, 2);
    add(4, 1, 1);
    for (int k = 0; k < 2; ++k) {  // shapes drawn at random, every size in 1..4
        const int B = 1 + rng.randint(4), D = 1 + rng.randint(4), H = 1 + rng.randint(4);
        add(B, D, H);
    }
    const std::string via_a = "its gradient comes from da through the given matmuls: check da_i = dc_t g i (1 - i), "
                              "da_f = dc_t c_{t-1} f (1 - f), da_g = dc_t i (1 - g²), da_o = dh tanh(c_t) o (1 - o), in "
                              "the gate order i, f, g, o, with dc_t = dc + dh o (1 - tanh²(c_t)): both paths to c_t";
    ex.hints = {{"forward", "the forward is given: if it fails, restore it from exercises/solutions/lstm_step.cpp"},
                {"c", "dc_{t-1} += dc_t ⊙ f, where dc_t = dc + dh ⊙ o ⊙ (1 - tanh²(c_t)) takes both paths to c_t "
                      "(directly, and through h_t); forgetting the path through h_t is the usual slip"},
                {"x_t", via_a}, {"h", via_a}, {"Wx", via_a}, {"Wh", via_a}, {"b", via_a}};
    return ex;
}

}  // namespace s2a::exercise
