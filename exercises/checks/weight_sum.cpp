// exercises/checks/weight_sum.cpp — the cases of the weight_sum exercise: yours against the library's WeightSum
// (nn/attention.cpp), on seeded random shapes, square ones among them (where a missing transpose does not
// change a shape, only the numbers).
//
// Dimensions: B batch, Tq query steps, S source steps, H source size.
#include "exercises/exercise.h"
#include "nn/attention.h"

namespace s2a::exercise {

Exercise the_exercise() {
    Exercise ex{"weight_sum", "docs/ch3_attention.md", "WeightSum in nn/attention.cpp", "backward", {}, {}};
    Rng rng(12);
    auto add = [&](int B, int Tq, int S, int H, const std::string& what) {
        ex.cases.push_back({what, {random_input("a", Shape{B, Tq, S}, rng), random_input("hs", Shape{B, S, H}, rng)},
                            [](const std::vector<Var>& in) { return exercise::weight_sum(in[0], in[1]); },
                            [](const std::vector<Var>& in) { return WeightSum().forward(in[0], in[1]); }});
    };
    add(2, 3, 4, 5, "");
    add(3, 1, 6, 2, "Tq = 1, as in the Bahdanau wiring");
    add(2, 4, 4, 4, "square: a transpose changes numbers, not shapes");
    add(1, 5, 3, 3, "");
    // Shapes drawn at random, every size in 1..5, into named sizes first: the order in which function arguments
    // are evaluated is unspecified, so draws inside a call's arguments could differ between compilers.
    for (int k = 0; k < 2; ++k) {
        const int B = 1 + rng.randint(5), Tq = 1 + rng.randint(5), S = 1 + rng.randint(5), H = 1 + rng.randint(5);
        add(B, Tq, S, H, "a random shape");
    }
    ex.hints = {{"forward", "the forward is given: if it fails, restore it from exercises/solutions/weight_sum.cpp"},
                {"a", "da_b = dc_b · hs_bᵀ: da[b, t, s] = Σₕ dc[b, t, h] hs[b, s, h], a sum over h. A missing transpose "
                      "pairs dc[b, t, ·] with a column of hs instead of its row s"},
                {"hs", "dhs_b = a_bᵀ · dc_b: dhs[b, s, h] = Σₜ a[b, t, s] dc[b, t, h]. Every query step t read hs[b, s], "
                       "so the sum runs over t; with = instead of += only the last t survives"}};
    return ex;
}

}  // namespace s2a::exercise
