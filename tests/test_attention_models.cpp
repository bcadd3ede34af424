// tests/test_attention_models.cpp — the attention seq2seq of chapters 3 and 4: whole-model gradients for
// every wiring, score and encoder, stacked and residual LSTMs, masks, decoding, and what the decoder attends
// with (the stack's output s_{t-1}, residual sums included, starting from the encoder's last output s_0).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "models/attention_seq2seq.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// B 2, S 5 (row 1 ends in two pads, id 0), target 3 + 1, vocabulary 6.
const IndexTensor kSrc = IndexTensor::from(Shape{2, 5}, {1, 2, 3, 4, 5, 4, 3, 2, 0, 0});
const IndexTensor kTgt = IndexTensor::from(Shape{2, 4}, {5, 3, 1, 2, 5, 2, 2, 4});

AttentionConfig tiny(Score score, Wiring wiring, bool bidirectional, int layers = 1, bool residual = false) {
    AttentionConfig c;
    c.V = 6, c.E = 3, c.H = 4, c.score = score, c.wiring = wiring, c.bidirectional = bidirectional;
    c.layers = layers, c.residual = residual, c.pad_id = 0;
    return c;
}

// Names for messages, as std::string: doctest prints a plain char pointer as an address.
std::string name_of(Wiring w) { return w == Wiring::Luong ? "luong" : "bahdanau"; }
std::string name_of(Score s) { return score_name(s); }

void check_loss(AttentionSeq2seq& model) {
    const std::vector<Var> params = model.parameters();
    GradcheckOptions opt;
    opt.max_elements = 64;
    const GradcheckReport r = gradcheck([&](const std::vector<Var>&) { return model.loss(kSrc, kTgt); }, params, opt);
    INFO(r.str());
    CHECK(r.pass);
}

}  // namespace

TEST_CASE("attention models: source mask marks the padding run only") {
    const Tensor m = source_mask(kSrc, 0, false);
    CHECK(m.data == Storage{1, 1, 1, 1, 1, 1, 1, 1, 0, 0});
    const IndexTensor reversed = IndexTensor::from(Shape{1, 5}, {0, 0, 3, 0, 1});  // a pad inside stays real
    CHECK(source_mask(reversed, 0, true).data == Storage{0, 0, 1, 1, 1});
}

TEST_CASE("attention models: gradient of the whole loss, Luong and Bahdanau, every score") {
    for (Wiring w : {Wiring::Luong, Wiring::Bahdanau})
        for (Score s : {Score::Dot, Score::General, Score::Additive, Score::Concat}) {
            Rng rng(7);
            AttentionSeq2seq model(tiny(s, w, false), rng);
            INFO(name_of(s), " ", name_of(w));
            check_loss(model);
        }
}

TEST_CASE("attention models: gradient with a bidirectional encoder") {
    for (Wiring w : {Wiring::Luong, Wiring::Bahdanau}) {
        Rng rng(8);
        AttentionSeq2seq model(tiny(Score::Dot, w, true), rng);
        check_loss(model);
    }
}

TEST_CASE("attention models: gradient of a deep residual model, Luong and Bahdanau") {
    for (Wiring w : {Wiring::Luong, Wiring::Bahdanau})
        for (bool residual : {false, true}) {
            Rng rng(9);
            AttentionSeq2seq model(tiny(Score::General, w, false, 3, residual), rng);
            INFO(name_of(w), ", residual ", residual);
            check_loss(model);
        }
}

TEST_CASE("attention models: a residual Bahdanau decoder attends with the stack's output s_{t-1}, not its top layer's h") {
    Rng rng(16);
    AttentionSeq2seq model(tiny(Score::General, Wiring::Bahdanau, false, 3, true), rng);
    const AttentionWeight& weight = model.decoder.attention.weight;
    NoGrad no_grad;
    const Tensor mask = source_mask(kSrc, 0, false);  // (B, S)
    auto [hs, state] = model.encoder.forward(kSrc);  // hs: (B, S, H)
    const Var keys = model.decoder.keys(hs);         // (B, S, H): hs Wᵀ, the general score's source side
    // The weights a query q (B, H) gets from the decoder's scoring, computed apart from the step: (B, 1, S).
    auto weights_for = [&](const Var& q) { return weight.forward(reshape(q, Shape{2, 1, 4}), hs, &mask).value(); };
    // s_0 is the encoder stack's output at its last step: hs's last row.
    CHECK(max_abs_diff(state.out.value(), select(hs, 1, 4).value()) == 0);
    for (int t = 0; t < 3; ++t) {
        CAPTURE(t);
        const Var query = state.out;            // s_{t-1}: (B, H)
        const Var top = state.layers.back().h;  // the top layer's own h: (B, H)
        Tensor a;                               // (B, 1, S)
        model.decoder.step(IndexTensor::from(Shape{2}, {t + 1, 5 - t}), hs, keys, &mask, state, &a);
        CHECK(max_abs_diff(a, weights_for(query)) < 1e-12);
        CHECK(max_abs_diff(a, weights_for(top)) > 1e-3);  // residual sums make the two queries differ
        // With dropout off, the stack's output is the sum of its layers' h: s = h₁ + h₂ + h₃.
        const Var sum = state.layers[0].h + state.layers[1].h + state.layers[2].h;  // (B, H)
        CHECK(max_abs_diff(state.out.value(), sum.value()) < 1e-12);
    }
}

TEST_CASE("attention models: a bidirectional encoder hands the decoder each direction's last output as s_0") {
    Rng rng(17);
    AttentionSeq2seq model(tiny(Score::Dot, Wiring::Bahdanau, true, 3, true), rng);
    NoGrad no_grad;
    auto [hs, state] = model.encoder.forward(kSrc);  // hs: (B, S, H) = [forward; backward], H/2 each
    // The forward LSTM ends at position S-1; the backward one reads right to left and ends at position 0.
    const Var forward_last = select(slice(hs, 2, 0, 2), 1, 4);   // (B, H/2)
    const Var backward_last = select(slice(hs, 2, 2, 4), 1, 0);  // (B, H/2)
    CHECK(max_abs_diff(state.out.value(), concat({forward_last, backward_last}, 1).value()) == 0);
}

TEST_CASE("attention models: stacked LSTM with residuals, dropout off and with a fixed mask") {
    Rng rng(10);
    StackedLSTM plain(3, 4, 3, true, 0, rng);
    Rng data(11);
    std::vector<Var> inputs = plain.parameters();
    inputs.push_back(parameter(randn(Shape{2, 3, 3}, data), "x"));
    GradcheckReport r = gradcheck([&](const std::vector<Var>& v) { return plain.forward(v.back(), {}).first; }, inputs);
    INFO(r.str());
    CHECK(r.pass);
    // With dropout, each forward draws a new mask from the layer's generator; a copy of the layer made
    // from the same seed gives the same masks, so the function gradcheck sees is fixed: re-create it per call.
    std::vector<Var> x = {parameter(randn(Shape{2, 3, 3}, data), "x")};
    auto with_dropout = [](const std::vector<Var>& v) {
        Rng seed(12);
        StackedLSTM dropped(3, 4, 3, true, Real(0.3), seed);
        return dropped.forward(v[0], {}).first;
    };
    r = gradcheck(with_dropout, x);
    INFO(r.str());
    CHECK(r.pass);
    Rng seed(12);
    StackedLSTM probe(3, 4, 3, true, Real(0.3), seed);
    NoGrad no_grad;
    CHECK(probe.forward(x[0], {}).first.value().data != StackedLSTM(3, 4, 3, true, 0, seed).forward(x[0], {}).first.value().data);
}

TEST_CASE("attention models: the Bahdanau decoder step, gradient w.r.t. hs, the layer's state and the query") {
    Rng rng(13);
    AttentionConfig cfg = tiny(Score::Additive, Wiring::Bahdanau, false);
    AttentionDecoder decoder(cfg, rng);
    const Tensor mask = source_mask(kSrc, 0, false);
    Rng data(14);
    std::vector<Var> inputs = decoder.parameters();
    inputs.push_back(parameter(randn(Shape{2, 5, 4}, data), "hs"));
    inputs.push_back(parameter(randn(Shape{2, 4}, data), "h0"));
    inputs.push_back(parameter(randn(Shape{2, 4}, data), "c0"));
    inputs.push_back(parameter(randn(Shape{2, 4}, data), "s0"));  // the query, apart from h0 to check its path alone
    const IndexTensor prev = IndexTensor::from(Shape{2}, {1, 3});
    auto f = [&](const std::vector<Var>& v) {
        const size_t n = v.size();
        StackState state{{{v[n - 3], v[n - 2]}}, v[n - 1]};
        return decoder.step(prev, v[n - 4], decoder.keys(v[n - 4]), &mask, state, nullptr);
    };
    const GradcheckReport r = gradcheck(f, inputs);
    INFO(r.str());
    CHECK(r.pass);
}

TEST_CASE("attention models: padding gets no attention, and generation matches teacher forcing") {
    for (Wiring w : {Wiring::Luong, Wiring::Bahdanau})
        for (int layers : {1, 3}) {  // 3 residual layers: s_0 and every query, carried step by step in both
            Rng rng(15);
            AttentionSeq2seq model(tiny(Score::Dot, w, true, layers, layers > 1), rng);
            INFO(name_of(w), ", layers ", layers);
            const IndexTensor guess = model.generate(kSrc, 5, 3);
            const Tensor& a = model.attention_map();  // (B, 3, S)
            REQUIRE(a.shape == (Shape{2, 3, 5}));
            for (int t = 0; t < 3; ++t) {
                CHECK(a[(1 * 3 + t) * 5 + 3] == 0);  // row 1's two pads
                CHECK(a[(1 * 3 + t) * 5 + 4] == 0);
                Real total = 0;
                for (int s = 0; s < 5; ++s) total += a[(1 * 3 + t) * 5 + s];
                CHECK(total == doctest::Approx(1));
            }
            // Teacher forcing on the generated tokens must pick the same tokens.
            IndexTensor tgt(Shape{2, 4});
            for (int b = 0; b < 2; ++b) {
                tgt[b * 4] = 5;
                for (int t = 0; t < 3; ++t) tgt[b * 4 + 1 + t] = guess[b * 3 + t];
            }
            NoGrad no_grad;
            const Tensor mask = source_mask(kSrc, 0, false);
            auto [hs, state] = model.encoder.forward(kSrc);
            const Tensor logits = model.decoder.forward(columns(tgt, 0, 3), hs, &mask, state).value();  // (2, 3, 6)
            for (int i = 0; i < 6; ++i) {
                const Real* row = logits.ptr() + i * 6;
                CHECK(std::max_element(row, row + 6) - row == guess[i]);
            }
        }
}
