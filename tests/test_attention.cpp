// tests/test_attention.cpp — tests of nn/attention and nn/fused_additive_scores: the four scores against
// plain loops, double-precision gradient checks of AttentionWeight (every score, with and without padding),
// WeightSum, Attention, the fused additive score and the step-by-step (Bahdanau) wiring; the fused additive
// score against its op-by-op reference; the padding guarantees (exactly 0 weight, exactly 0 gradient, an
// all-padding row gives zeros); a dot example worked out by hand; one call with Tq steps against Tq calls with
// one step; and the errors.
//
// Dimensions: B batch, Tq query steps, S source steps, Hq query size, Hk source size, A additive size.
// Sizes are tiny (B 2, Tq 3, S 4, H 3..5) and seeded, so the gradient checks look at every element.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "nn/attention.h"
#include "nn/fused_additive_scores.h"
#include "tests/util.h"

using namespace s2a;

namespace {

const Score kScores[] = {Score::Dot, Score::General, Score::Additive, Score::Concat};

// Sizes per score: dot needs Hq = Hk; the others get different sizes, so a swapped axis cannot hide.
struct Sizes {
    int B, Tq, S, Hq, Hk, A;
};
Sizes sizes_for(Score score) {
    if (score == Score::Dot) return {2, 3, 4, 4, 4, 0};
    if (score == Score::Additive) return {2, 3, 4, 3, 5, 3};  // A = 3 ≠ Hk, to catch W₁/W₂ mix-ups
    return {2, 3, 4, 3, 5, 0};
}

// The masks the tests run with: none, some padding, and a row that is padding only.
struct MaskCase {
    const char* name;
    std::vector<int> lengths;  // empty: no mask
    // The mask (B, S) of these lengths; an empty tensor when there is no mask.
    Tensor mask(int S) const { return lengths.empty() ? Tensor() : lengths_mask(lengths, S); }
};
const MaskCase kMasks[] = {{"no mask", {}}, {"lengths 4, 2", {4, 2}}, {"lengths 3, 0", {3, 0}}};

// What the layers take for a mask: a pointer, null for none.
const Tensor* mask_arg(const Tensor& mask) { return mask.empty() ? nullptr : &mask; }

// Gradient check of forward(q, hs) over the layer's parameters, q and hs; then every one of their gradients must
// be finite, since an all-padding row must give zeros, never a NaN.
void check_attention_gradients(const std::string& what, const Module& layer, const Var& q, const Var& hs,
                               const std::function<Var(const Var& q, const Var& hs)>& forward) {
    std::vector<Var> inputs = layer.parameters();
    inputs.push_back(q);
    inputs.push_back(hs);
    auto f = [&](const std::vector<Var>& v) { return forward(v[v.size() - 2], v.back()); };
    check_report(gradcheck(f, inputs), what);
    for (const Var& x : inputs) CHECK_MESSAGE(all_finite(x.grad()), what << ": gradient of " << x.name());
}

// The value of the parameter called `name` (a path such as "W1").
const Tensor& param(const Module& m, const std::string& name) {
    for (auto& [n, p] : m.named_parameters())
        if (n == name) return p.value();
    throw std::invalid_argument("no parameter " + name);
}

// The reference: attention weights a (B, Tq, S) by plain loops, one score at a time, straight from the
// formulas in nn/attention.h, then a masked softmax written out. q (B, Tq, Hq), hs (B, S, Hk), mask (B, S).
Tensor reference_weights(const AttentionWeight& layer, const Tensor& q, const Tensor& hs, const Tensor* mask) {
    const int B = q.dim(0), Tq = q.dim(1), Hq = q.dim(2), S = hs.dim(1), Hk = hs.dim(2), A = layer.additive_size();
    Tensor a(Shape{B, Tq, S});
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < Tq; ++t) {
            const Real* h = q.ptr() + (int64_t(b) * Tq + t) * Hq;  // the query (Hq)
            std::vector<double> e(S);                               // its scores (S)
            for (int s = 0; s < S; ++s) {
                const Real* k = hs.ptr() + (int64_t(b) * S + s) * Hk;  // one source state (Hk)
                double score = 0;
                switch (layer.score()) {
                    case Score::Dot:  // h · hsₛ
                        for (int i = 0; i < Hq; ++i) score += h[i] * k[i];
                        break;
                    case Score::General: {  // Σᵢⱼ hᵢ Wᵢⱼ hsₛⱼ
                        const Tensor& W = param(layer, "W");
                        for (int i = 0; i < Hq; ++i)
                            for (int j = 0; j < Hk; ++j) score += h[i] * W[int64_t(i) * Hk + j] * k[j];
                        break;
                    }
                    case Score::Additive: {  // Σₐ vₐ tanh(Σᵢ hᵢ W₁ᵢₐ + Σⱼ hsₛⱼ W₂ⱼₐ)
                        const Tensor &W1 = param(layer, "W1"), &W2 = param(layer, "W2"), &v = param(layer, "v");
                        for (int u = 0; u < A; ++u) {
                            double pre = 0;
                            for (int i = 0; i < Hq; ++i) pre += h[i] * W1[int64_t(i) * A + u];
                            for (int j = 0; j < Hk; ++j) pre += k[j] * W2[int64_t(j) * A + u];
                            score += v[u] * std::tanh(pre);
                        }
                        break;
                    }
                    case Score::Concat: {  // σ(h · p + hsₛ · q + r)
                        const Tensor &p = param(layer, "p"), &qv = param(layer, "q"), &r = param(layer, "r");
                        double pre = r[0];
                        for (int i = 0; i < Hq; ++i) pre += h[i] * p[i];
                        for (int j = 0; j < Hk; ++j) pre += k[j] * qv[j];
                        score = 1 / (1 + std::exp(-pre));
                        break;
                    }
                }
                e[s] = score;
            }
            // Masked softmax: exp over the kept positions only; a row with none kept stays 0.
            double total = 0;
            std::vector<double> w(S, 0.0);
            for (int s = 0; s < S; ++s)
                if (!mask || (*mask)[int64_t(b) * S + s] != 0) total += w[s] = std::exp(e[s]);
            for (int s = 0; s < S; ++s) a[(int64_t(b) * Tq + t) * S + s] = total > 0 ? w[s] / total : 0;
        }
    return a;
}

}  // namespace

// ---------------------------------------------------------------- names and masks

TEST_CASE("attention: parse_score reads every name score_name writes, and lists them on an error") {
    for (Score s : kScores) CHECK(parse_score(score_name(s)) == s);
    CHECK(parse_score("dot") == Score::Dot);
    CHECK(parse_score("general") == Score::General);
    CHECK(parse_score("additive") == Score::Additive);
    CHECK(parse_score("concat") == Score::Concat);
    for (const char* bad : {"", "Dot", "bahdanau", "dot "}) {
        CHECK_THROWS_AS(parse_score(bad), std::invalid_argument);
        std::string msg;
        try {
            parse_score(bad);
        } catch (const std::invalid_argument& e) {
            msg = e.what();
        }
        INFO(msg);
        for (const char* name : {"dot", "general", "additive", "concat"}) CHECK(contains(msg, name));
    }
}

TEST_CASE("attention: lengths_mask marks real tokens 1 and padding 0") {
    const Tensor m = lengths_mask({3, 1, 0}, 4);
    REQUIRE(m.shape == Shape({3, 4}));
    CHECK(m.data == Storage{1, 1, 1, 0,
                                      1, 0, 0, 0,
                                      0, 0, 0, 0});
    CHECK_THROWS_AS(lengths_mask({5}, 4), std::invalid_argument);
    CHECK_THROWS_AS(lengths_mask({-1}, 4), std::invalid_argument);
}

// ---------------------------------------------------------------- values

TEST_CASE("attention: dot score and context against a hand computation") {
    tape().clear();
    Rng rng(1);
    Attention att(Score::Dot, 2, 2, rng);
    CHECK(att.num_parameters() == 0);
    // hs (1, 3, 2): the source states [1, 0], [0, 1], [1, 1].
    const Var hs = constant(Tensor::from(Shape{1, 3, 2}, {1, 0, 0, 1, 1, 1}));
    // q (1, 2, 2). Query 0 = [ln 2, 0]: scores [ln 2, 0, ln 2], exp → [2, 1, 2], weights [0.4, 0.2, 0.4].
    //              Query 1 = [0, ln 3]: scores [0, ln 3, ln 3], exp → [1, 3, 3], weights [1, 3, 3] / 7.
    const Real l2 = std::log(Real(2)), l3 = std::log(Real(3));
    const Var q = constant(Tensor::from(Shape{1, 2, 2}, {l2, 0, 0, l3}));

    const Var c = att.forward(q, hs, nullptr);
    REQUIRE(c.shape() == Shape({1, 2, 2}));
    const std::vector<double> a_expected = {0.4, 0.2, 0.4, 1.0 / 7, 3.0 / 7, 3.0 / 7};
    // Contexts: 0.4 [1, 0] + 0.2 [0, 1] + 0.4 [1, 1] = [0.8, 0.6];  (1 [1, 0] + 3 [0, 1] + 3 [1, 1]) / 7 = [4, 6] / 7.
    const std::vector<double> c_expected = {0.8, 0.6, 4.0 / 7, 6.0 / 7};
    REQUIRE(att.last_weights().shape == Shape({1, 2, 3}));
    for (int i = 0; i < 6; ++i) CHECK(att.last_weights()[i] == doctest::Approx(a_expected[i]).epsilon(1e-12));
    for (int i = 0; i < 4; ++i) CHECK(c.value()[i] == doctest::Approx(c_expected[i]).epsilon(1e-12));

    // The third position padded (length 2): query 0 → [2, 1] / 3, query 1 → [1, 3] / 4, position 2 exactly 0.
    const Tensor mask = lengths_mask({2}, 3);
    const Var cm = att.forward(q, hs, &mask);
    const std::vector<double> am_expected = {2.0 / 3, 1.0 / 3, 0, 0.25, 0.75, 0};
    for (int i = 0; i < 6; ++i) CHECK(att.last_weights()[i] == doctest::Approx(am_expected[i]).epsilon(1e-12));
    CHECK(att.last_weights()[2] == 0);
    CHECK(att.last_weights()[5] == 0);
    // Contexts: [2, 1] / 3 and [1, 3] / 4.
    const std::vector<double> cm_expected = {2.0 / 3, 1.0 / 3, 0.25, 0.75};
    for (int i = 0; i < 4; ++i) CHECK(cm.value()[i] == doctest::Approx(cm_expected[i]).epsilon(1e-12));
    tape().clear();
}

TEST_CASE("attention: every score matches the plain-loop reference; the weights sum to 1 over real positions, "
          "are exactly 0 at padding, and 0 for an all-padding row") {
    tape().clear();
    for (Score score : kScores) {
        const Sizes z = sizes_for(score);
        Rng rng(10);
        AttentionWeight layer(score, z.Hq, z.Hk, rng, z.A);
        randomize(layer, rng);
        const Tensor q = randn(Shape{z.B, z.Tq, z.Hq}, rng), hs = randn(Shape{z.B, z.S, z.Hk}, rng);
        for (const MaskCase& mc : kMasks) {
            INFO(score_name(score) << ", " << mc.name);
            const Tensor mask = mc.mask(z.S);
            const Tensor* m = mask_arg(mask);
            const Var weights = layer.forward(constant(q), constant(hs), m);
            REQUIRE(weights.shape() == Shape({z.B, z.Tq, z.S}));
            const Tensor& a = weights.value();  // (B, Tq, S)
            CHECK(max_abs_diff(a, reference_weights(layer, q, hs, m)) < 1e-12);
            CHECK(all_finite(a));
            for (int b = 0; b < z.B; ++b) {
                const int len = mc.lengths.empty() ? z.S : mc.lengths[b];
                for (int t = 0; t < z.Tq; ++t) {
                    const Real* row = a.ptr() + (int64_t(b) * z.Tq + t) * z.S;
                    double total = 0;
                    for (int s = 0; s < len; ++s) {
                        CHECK(row[s] > 0);
                        total += row[s];
                    }
                    for (int s = len; s < z.S; ++s) CHECK(row[s] == 0);  // exactly 0, not just small
                    CHECK(total == doctest::Approx(len > 0 ? 1.0 : 0.0).epsilon(1e-12));
                }
            }
        }
    }
    tape().clear();
}

TEST_CASE("attention: the concat score's softmax can only be mildly peaked, the dot score's sharply") {
    // A score in [0, 1] means exp(score) in [1, e]: over S positions no weight can exceed e / (e + S - 1),
    // however large the parameters grow (σ saturates at exactly 0 and 1 in floating point, hence ≤). The dot score is unbounded: a longer query makes it as sharp as needed.
    tape().clear();
    const int S = 4;
    Rng rng(30);
    AttentionWeight concat(Score::Concat, 3, 3, rng), dot(Score::Dot, 3, 3, rng);
    for (auto& [name, p] : concat.named_parameters()) p.value() = randn(p.shape(), rng, 100);  // huge p, q, r
    const Var q = constant(randn(Shape{1, 1, 3}, rng, 100)), hs = constant(randn(Shape{1, S, 3}, rng));
    const Tensor ac = concat.forward(q, hs, nullptr).value(), ad = dot.forward(q, hs, nullptr).value();
    const double bound = std::exp(1.0) / (std::exp(1.0) + S - 1);  // ≈ 0.475
    CHECK(*std::max_element(ac.data.begin(), ac.data.end()) <= bound + 1e-12);
    CHECK(*std::max_element(ad.data.begin(), ad.data.end()) > 0.99);
    tape().clear();
}

TEST_CASE("attention: Tq query steps in one call equal Tq calls of one step with keys computed once") {
    // Luong wiring: every decoder step in one call. Bahdanau wiring: keys(hs) once, then one call per step.
    tape().clear();
    for (Score score : kScores) {
        INFO(score_name(score));
        const Sizes z = sizes_for(score);
        Rng rng(40);
        Attention att(score, z.Hq, z.Hk, rng, z.A);
        randomize(att, rng);
        const Var q = constant(randn(Shape{z.B, z.Tq, z.Hq}, rng)), hs = constant(randn(Shape{z.B, z.S, z.Hk}, rng));
        const Tensor mask = lengths_mask({4, 2}, z.S);
        const Tensor all = att.forward(q, hs, &mask).value();  // (B, Tq, Hk)
        const Var keys = att.weight.keys(hs);                   // (B, S, K)
        CHECK(keys.shape() == Shape({z.B, z.S, att.weight.key_size()}));
        CHECK(att.forward_with_keys(q, hs, keys, &mask).value().data == all.data);
        for (int t = 0; t < z.Tq; ++t) {
            const Var q_t = reshape(select(q, 1, t), Shape{z.B, 1, z.Hq});  // one decoder step: (B, 1, Hq)
            const Var c_t = att.forward_with_keys(q_t, hs, keys, &mask);     // (B, 1, Hk)
            for (int b = 0; b < z.B; ++b)
                for (int h = 0; h < z.Hk; ++h)
                    CHECK(c_t.value()[int64_t(b) * z.Hk + h] ==
                          doctest::Approx(all[(int64_t(b) * z.Tq + t) * z.Hk + h]).epsilon(1e-12));
        }
    }
    tape().clear();
}

TEST_CASE("attention: the fused additive score agrees with the op-by-op reference, values and gradients") {
    Rng rng(45);
    const int B = 2, Tq = 3, S = 4, A = 5;
    const Tensor r = randn(Shape{B, Tq, S}, rng);  // the direction of the loss Σ e ⊙ r
    // Every pattern of which inputs need a gradient (the fused backward skips the others), and a direction
    // with zeros in it (the fused backward skips pairs with de = 0, as padded positions have).
    for (int need = 1; need < 8; ++need)
        for (bool zeros : {false, true}) {
            INFO("inputs needing a gradient: " << need << (zeros ? ", direction with zeros" : ""));
            Tensor dir = r;
            if (zeros)
                for (int64_t i = 0; i < dir.numel(); i += 3) dir[i] = 0;
            const Tensor x0 = randn(Shape{B, Tq, A}, rng), y0 = randn(Shape{B, S, A}, rng), v0 = randn(Shape{A}, rng);
            auto make = [](const Tensor& t, bool grad) { return grad ? parameter(t) : constant(t); };
            const Var x = make(x0, need & 1), y = make(y0, need & 2), v = make(v0, need & 4);
            tape().clear();
            const Var fused = additive_scores(x, y, v);
            backward(sum(fused * constant(dir)));
            std::vector<Tensor> fused_grads;
            for (const Var& in : {x, y, v}) fused_grads.push_back(in.requires_grad() ? in.grad() : Tensor());
            tape().clear();
            zero_grad({x, y, v});
            const Var ref = additive_scores_reference(x, y, v);
            CHECK(max_abs_diff(fused.value(), ref.value()) < 1e-12);
            backward(sum(ref * constant(dir)));
            int k = 0;
            for (const Var& in : {x, y, v}) {
                if (in.requires_grad()) CHECK(max_abs_diff(fused_grads[k], in.grad()) < 1e-12);
                ++k;
            }
            tape().clear();
        }

    // Without gradients (evaluation, decoding) the fused op keeps no (B, Tq, S, A) buffer: same values.
    const Var x = parameter(randn(Shape{B, Tq, A}, rng)), y = parameter(randn(Shape{B, S, A}, rng)), v = parameter(randn(Shape{A}, rng));
    const Tensor with_grad = additive_scores(x, y, v).value();
    tape().clear();
    NoGrad no_grad;
    CHECK(additive_scores(x, y, v).value().data == with_grad.data);
    CHECK_THROWS_AS(additive_scores(x, y, constant(Tensor(Shape{A + 1}))), ShapeError);
}

// ---------------------------------------------------------------- gradients

TEST_CASE("attention: AttentionWeight gradient check, every score, with and without padding") {
    for (Score score : kScores) {
        const Sizes z = sizes_for(score);
        Rng rng(50);
        AttentionWeight layer(score, z.Hq, z.Hk, rng, z.A);
        randomize(layer, rng);
        for (const MaskCase& mc : kMasks) {
            const Tensor mask = mc.mask(z.S);
            const Tensor* m = mask_arg(mask);
            const Var q = parameter(randn(Shape{z.B, z.Tq, z.Hq}, rng), "q");
            const Var hs = parameter(randn(Shape{z.B, z.S, z.Hk}, rng), "hs");
            check_attention_gradients(fmt::format("AttentionWeight {}, {}", score_name(score), mc.name), layer, q, hs,
                                      [&](const Var& q_in, const Var& hs_in) { return layer.forward(q_in, hs_in, m); });
        }
    }
}

TEST_CASE("attention: additive_scores gradient check") {
    Rng rng(55);
    const Var x = parameter(randn(Shape{2, 3, 5}, rng), "qW1");  // (B, Tq, A)
    const Var y = parameter(randn(Shape{2, 4, 5}, rng), "kW2");  // (B, S, A)
    const Var v = parameter(randn(Shape{5}, rng), "v");          // (A)
    check_report(gradcheck([](const std::vector<Var>& in) { return additive_scores(in[0], in[1], in[2]); }, {x, y, v}),
                 "additive_scores");
}

TEST_CASE("attention: gradient check of the Bahdanau wiring: keys once, one step at a time") {
    // The keys feed every step, so their gradient is the sum of all steps' contributions.
    for (Score score : kScores) {
        const Sizes z = sizes_for(score);
        Rng rng(57);
        Attention att(score, z.Hq, z.Hk, rng, z.A);
        randomize(att, rng);
        const Tensor mask = lengths_mask({4, 2}, z.S);
        const Var q = parameter(randn(Shape{z.B, z.Tq, z.Hq}, rng), "q");
        const Var hs = parameter(randn(Shape{z.B, z.S, z.Hk}, rng), "hs");
        auto step_by_step = [&](const Var& q_all, const Var& source) {
            const Var keys = att.weight.keys(source);
            std::vector<Var> cs;  // Tq contexts (B, Hk)
            for (int t = 0; t < z.Tq; ++t)
                cs.push_back(select(att.forward_with_keys(reshape(select(q_all, 1, t), Shape{z.B, 1, z.Hq}), source, keys, &mask), 1, 0));
            return stack(cs, 1);  // (B, Tq, Hk)
        };
        check_attention_gradients(fmt::format("Attention {}, step by step", score_name(score)), att, q, hs, step_by_step);
    }
}

TEST_CASE("attention: WeightSum gradient check and a hand computation") {
    tape().clear();
    WeightSum ws;
    CHECK(ws.num_parameters() == 0);
    // a (1, 1, 2) = [0.25, 0.75], hs (1, 2, 3): c = 0.25 [4, 0, 8] + 0.75 [0, 4, -4] = [1, 3, -1].
    const Var c = ws.forward(constant(Tensor::from(Shape{1, 1, 2}, {0.25, 0.75})),
                             constant(Tensor::from(Shape{1, 2, 3}, {4, 0, 8, 0, 4, -4})));
    REQUIRE(c.shape() == Shape({1, 1, 3}));
    CHECK(c.value().data == Storage{1, 3, -1});
    tape().clear();

    Rng rng(60);
    const Var a = parameter(randn(Shape{2, 3, 4}, rng), "a");   // (B, Tq, S): any numbers will do here
    const Var hs = parameter(randn(Shape{2, 4, 5}, rng), "hs");  // (B, S, H)
    check_report(gradcheck([&](const std::vector<Var>& v) { return ws.forward(v[0], v[1]); }, {a, hs}), "WeightSum");
}

TEST_CASE("attention: Attention gradient check, every score, with and without padding; last_weights") {
    for (Score score : kScores) {
        const Sizes z = sizes_for(score);
        Rng rng(70);
        Attention att(score, z.Hq, z.Hk, rng, z.A);
        randomize(att, rng);
        CHECK(att.last_weights().empty());
        for (const MaskCase& mc : kMasks) {
            const Tensor mask = mc.mask(z.S);
            const Tensor* m = mask_arg(mask);
            const Var q = parameter(randn(Shape{z.B, z.Tq, z.Hq}, rng), "q");
            const Var hs = parameter(randn(Shape{z.B, z.S, z.Hk}, rng), "hs");
            check_attention_gradients(fmt::format("Attention {}, {}", score_name(score), mc.name), att, q, hs,
                                      [&](const Var& q_in, const Var& hs_in) { return att.forward(q_in, hs_in, m); });

            // last_weights() is what the weight layer computes for these inputs, and outlives the tape.
            tape().clear();
            const Var c = att.forward(q, hs, m);
            REQUIRE(c.shape() == Shape({z.B, z.Tq, z.Hk}));
            const Tensor expected = att.weight.forward(q, hs, m).value();
            tape().clear();
            CHECK(att.last_weights().shape == Shape({z.B, z.Tq, z.S}));
            CHECK(att.last_weights().data == expected.data);
            if (mc.lengths == std::vector<int>{3, 0})  // the all-padding row: zero weights, zero context
                for (int64_t i = z.Tq * z.Hk; i < c.numel(); ++i) CHECK(c.value()[i] == 0);
        }
    }
}

TEST_CASE("attention: padded source positions get exactly 0 gradient, and changing them changes nothing") {
    for (Score score : kScores) {
        const Sizes z = sizes_for(score);
        Rng rng(80);
        Attention att(score, z.Hq, z.Hk, rng, z.A);
        randomize(att, rng);
        // Padding: b 0 at s 3; b 1 at s 2, 3. (Two real positions at least: over one, the weight is always 1
        // and the scores get no gradient at all.)
        const Tensor mask = lengths_mask({3, 2}, z.S);
        const Var q = parameter(randn(Shape{z.B, z.Tq, z.Hq}, rng), "q");
        const Var hs = parameter(randn(Shape{z.B, z.S, z.Hk}, rng), "hs");
        const Tensor r = randn(Shape{z.B, z.Tq, z.Hk}, rng);  // a random direction for the loss Σ c ⊙ r
        // Through the weights alone (hs enters the scores only) and through the whole layer (hs also
        // enters the weighted sum): either way a padded row of hs must get exactly 0.
        for (bool whole : {false, true}) {
            INFO(score_name(score) << (whole ? ", Attention" : ", AttentionWeight"));
            auto run = [&] { return whole ? att.forward(q, hs, &mask) : att.weight.forward(q, hs, &mask); };
            tape().clear();
            zero_grad({q, hs});
            att.zero_grad();
            const Var out = run();
            const Tensor before = out.value();
            const Var direction = constant(whole ? r : randn(out.shape(), rng));
            backward(sum(out * direction));
            for (int b = 0; b < z.B; ++b)
                for (int s = 0; s < z.S; ++s) {
                    const bool padded = mask[int64_t(b) * z.S + s] == 0;
                    for (int h = 0; h < z.Hk; ++h) {
                        const Real g = hs.grad()[(int64_t(b) * z.S + s) * z.Hk + h];
                        if (padded) CHECK(g == 0);  // exactly
                        else CHECK(g != 0);        // the real rows do get a gradient
                    }
                }
            // Overwrite the padded rows of hs with large values: the output must not change at all.
            const Tensor saved = hs.value();
            for (int b = 0; b < z.B; ++b)
                for (int s = 0; s < z.S; ++s)
                    if (mask[int64_t(b) * z.S + s] == 0)
                        for (int h = 0; h < z.Hk; ++h) hs.value()[(int64_t(b) * z.S + s) * z.Hk + h] = 1000 * (h + 1);
            CHECK(run().value().data == before.data);
            hs.value() = saved;
            tape().clear();
        }
    }
}

// ---------------------------------------------------------------- errors

TEST_CASE("attention: shape errors name the layer and the shapes; bad sizes are refused") {
    tape().clear();
    Rng rng(90);
    AttentionWeight general(Score::General, 3, 5, rng);
    const Var q = constant(Tensor(Shape{2, 3, 3})), hs = constant(Tensor(Shape{2, 4, 5}));
    const Tensor good_mask = lengths_mask({4, 2}, 4);
    CHECK_NOTHROW(general.forward(q, hs, &good_mask));

    struct Bad {
        const char* what;
        Shape q, hs, shown;  // `shown` must appear in the message
    };
    const Bad bads[] = {
        {"q 2-D", Shape{2, 3}, Shape{2, 4, 5}, Shape{2, 3}},
        {"wrong Hq", Shape{2, 3, 4}, Shape{2, 4, 5}, Shape{2, 3, 4}},
        {"wrong Hk", Shape{2, 3, 3}, Shape{2, 4, 6}, Shape{2, 4, 6}},
        {"batch sizes differ", Shape{2, 3, 3}, Shape{3, 4, 5}, Shape{3, 4, 5}},
    };
    for (const Bad& bad : bads) {
        INFO(bad.what);
        const std::string msg = shape_error_of([&] { general.forward(constant(Tensor(bad.q)), constant(Tensor(bad.hs)), nullptr); });
        INFO(msg);
        CHECK(contains(msg, "AttentionWeight"));
        CHECK(contains(msg, bad.shown.str()));
    }
    const Tensor wrong_mask(Shape{2, 5});
    const std::string mask_msg = shape_error_of([&] { general.forward(q, hs, &wrong_mask); });
    CHECK(contains(mask_msg, "AttentionWeight"));
    CHECK(contains(mask_msg, "(2, 5)"));

    WeightSum ws;
    const std::string ws_msg = shape_error_of([&] { ws.forward(constant(Tensor(Shape{2, 3, 4})), constant(Tensor(Shape{2, 5, 6}))); });
    CHECK(contains(ws_msg, "WeightSum"));
    CHECK(contains(ws_msg, "(2, 3, 4)"));
    CHECK(contains(ws_msg, "(2, 5, 6)"));

    Attention att(Score::Additive, 3, 5, rng);
    CHECK(att.weight.additive_size() == 5);  // A = 0 means A = Hk
    CHECK(att.weight.key_size() == 5);
    CHECK(general.key_size() == 3);  // general's keys are hs Wᵀ: (B, S, Hq)
    // keys of the wrong width for forward_with_keys
    CHECK(contains(shape_error_of([&] { general.forward_with_keys(q, constant(Tensor(Shape{2, 4, 5})), nullptr); }), "keys"));
    CHECK(contains(shape_error_of([&] { general.keys(constant(Tensor(Shape{2, 4, 3}))); }), "(2, 4, 3)"));
    CHECK(contains(shape_error_of([&] { att.forward(constant(Tensor(Shape{2, 3, 5})), hs, nullptr); }), "AttentionWeight"));
    CHECK(att.last_weights().empty());  // a failed forward keeps nothing

    CHECK_THROWS_AS(AttentionWeight(Score::Dot, 3, 5, rng), std::invalid_argument);  // dot needs Hq = Hk
    CHECK_THROWS_AS(AttentionWeight(Score::General, 0, 5, rng), std::invalid_argument);
    CHECK_THROWS_AS(AttentionWeight(Score::Additive, 3, 5, rng, -1), std::invalid_argument);
    tape().clear();
}
