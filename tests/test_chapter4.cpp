// tests/test_chapter4.cpp — chapter 4 (deep LSTM stacks, residual connections): the program runs end to end
// in --quick mode and refuses bad depths; the deep residual model exactly as the chapter builds it (dot score,
// reversed source and its padding mask) has the right gradient; and a residual stack stepped one token at a
// time, as generation does, computes what its whole-sequence forward computes in training, with the right
// gradient too.
#include <doctest/doctest.h>

#include <filesystem>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "models/attention_seq2seq.h"
#include "tests/run_program.h"
#include "tests/util.h"

using namespace s2a;

TEST_CASE("chapters: ch4 runs in quick mode") {
    const TempDir out("ch4");
    check_run("ch4", "--quick --out " + out.path(), 0,
              {"bottom/top",            // the gradient-norm table
               "Depth 3: bottom/top",   // and its plain-against-residual summary
               "3 residual",            // a deep residual model was trained too
               "(test exact match)"});
    CHECK(std::filesystem::exists(out.file("ch4_grad_norms.svg")));
    CHECK(std::filesystem::exists(out.file("ch4_accuracy.svg")));
    check_run("ch4", "--depths 1,x --out " + out.path(), 1, {"'x'"});  // refused before any data is made
}

TEST_CASE("chapter 4: gradient of a depth-4 residual model's loss, built as the chapter builds it") {
    // B 2, S 5, read reversed: the padding (id 0) comes first, two pads in row 1. Target 3 + 1, vocabulary 6.
    const IndexTensor src = IndexTensor::from(Shape{2, 5}, {5, 4, 3, 2, 1, 0, 0, 2, 3, 4});
    const IndexTensor tgt = IndexTensor::from(Shape{2, 4}, {5, 3, 1, 2, 5, 2, 2, 4});
    AttentionConfig c;
    c.V = 6, c.E = 3, c.H = 4, c.layers = 4, c.residual = true, c.pad_id = 0, c.reversed_source = true;
    Rng rng(41);
    AttentionSeq2seq model(c, rng);
    GradcheckOptions opt;
    opt.max_elements = 48;
    const GradcheckReport r = gradcheck([&](const std::vector<Var>&) { return model.loss(src, tgt); }, model.parameters(), opt);
    INFO(r.str());
    CHECK(r.pass);
}

TEST_CASE("chapter 4: a residual stack stepped token by token matches its forward, and step's gradient is right") {
    Rng rng(42);
    StackedLSTM lstm(3, 4, 3, true, 0, rng);  // D 3, H 4, 3 layers, residual
    const Tensor x = randn(Shape{2, 5, 3}, rng);  // x: (B, T, D)
    {
        NoGrad no_grad;
        const Var hs = lstm.forward(constant(x), {}).first;  // hs: (B, T, H)
        std::vector<LSTMState> states;
        for (int t = 0; t < 5; ++t) {
            const Tensor h = lstm.step(select(constant(x), 1, t), states).value();  // h: (B, H)
            CAPTURE(t);
            CHECK(max_abs_diff(h, select(hs, 1, t).value()) < 1e-12);  // doctest prints the difference
        }
    }
    // Two steps from a given state: the gradient flows through both, the residual adds and every layer's state.
    std::vector<Var> inputs = lstm.parameters();
    inputs.push_back(parameter(randn(Shape{2, 3}, rng), "x0"));
    inputs.push_back(parameter(randn(Shape{2, 3}, rng), "x1"));
    inputs.push_back(parameter(randn(Shape{2, 4}, rng), "h0"));
    inputs.push_back(parameter(randn(Shape{2, 4}, rng), "c0"));
    auto two_steps = [&](const std::vector<Var>& v) {
        const size_t n = v.size();
        std::vector<LSTMState> states = {{}, {v[n - 2], v[n - 1]}, {}};  // the middle layer starts from (h0, c0)
        lstm.step(v[n - 4], states);
        return lstm.step(v[n - 3], states);
    };
    const GradcheckReport r = gradcheck(two_steps, inputs);
    INFO(r.str());
    CHECK(r.pass);
}
