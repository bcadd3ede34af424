// tests/test_transformer.cpp — tests of nn/transformer: masks, attention (the op-by-op reference and the
// fused op, held to each other and gradient-checked), positional encoding, LayerNorm, the FFN, AddNorm,
// the encoder and decoder layers and stacks, and what the masks promise (the future is invisible, padding
// gives no NaN, weights sum to 1).
//
// Dimensions: B batch, T/Tq/Tk steps, D d_model, h heads, dk = D/h, F FFN size. Sizes are tiny and seeded,
// so the double-precision gradient checks look at (nearly) every element.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "nn/transformer.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// The spread of the random parameters (randomize in tests/util.h): half the other layer tests' N(0, 1), since
// the stacks compose several projections and larger weights would saturate their softmaxes, where a gradient
// check sees little.
constexpr Real kParamStd = Real(0.5);

// Gradient check of f over the module's parameters followed by `extra` (all made with parameter()).
void check_gradients(const std::string& what, const Module* layer, const std::vector<Var>& extra,
                     const std::function<Var()>& f, int max_elements = 256) {
    std::vector<Var> inputs = layer ? layer->parameters() : std::vector<Var>{};
    inputs.insert(inputs.end(), extra.begin(), extra.end());
    GradcheckOptions options;
    options.max_elements = max_elements;
    const GradcheckReport report = gradcheck([&](const std::vector<Var>&) { return f(); }, inputs, options);
    INFO(what << "\n" << report.str());
    CHECK(report.pass);
}

// The ids of two sentences of length T = 4 with pad id 0: the first has no padding, the second two pads.
IndexTensor padded_ids() { return IndexTensor::from(Shape{2, 4}, {5, 6, 7, 8, 9, 3, 0, 0}); }

// d (Σ_d r_d · y[b, t, d]) / d x for every batch element b: how output step t depends on every input step.
Tensor gradient_of_step(const std::function<Var()>& forward, const Var& x, int t, Rng& rng) {
    tape().clear();
    zero_grad({x});
    const Var y_t = select(forward(), 1, t);  // (B, D)
    backward(sum(y_t * constant(randn(y_t.shape(), rng))));
    Tensor g = x.grad();  // (B, T, D)
    tape().clear();
    return g;
}

// Checks that output step t has exactly zero gradient from input steps after t, and some from step t - 1.
void check_causal(const std::string& what, const std::function<Var()>& forward, const Var& x, Rng& rng) {
    const int B = x.dim(0), T = x.dim(1), D = x.dim(2);
    for (int t = 0; t < T; ++t) {
        const Tensor g = gradient_of_step(forward, x, t, rng);
        for (int b = 0; b < B; ++b) {
            for (int s = t + 1; s < T; ++s)
                for (int d = 0; d < D; ++d) {
                    INFO(what << ": d y[" << b << ", " << t << "] / d x[" << b << ", " << s << ", " << d << "]");
                    CHECK(g[(int64_t(b) * T + s) * D + d] == 0);  // exactly: the future is not even rounded in
                }
            if (t == 0) continue;
            double past = 0;
            for (int d = 0; d < D; ++d) past += std::fabs(g[(int64_t(b) * T + t - 1) * D + d]);
            INFO(what << ": step " << t << " must depend on step " << t - 1 << " (sentence " << b << ")");
            CHECK(past > 0);
        }
    }
}

}  // namespace

// ---------------------------------------------------------------- masks

TEST_CASE("transformer: masks have the right shapes and values") {
    const Tensor pad = padding_mask(padded_ids(), 0);
    REQUIRE(pad.shape == Shape({2, 1, 1, 4}));
    CHECK(pad.data == Storage{1, 1, 1, 1, 1, 1, 0, 0});

    const Tensor causal = causal_mask(3);
    REQUIRE(causal.shape == Shape({3, 3}));
    CHECK(causal.data == Storage{1, 0, 0,   // step 0 sees only itself
                                           1, 1, 0,
                                           1, 1, 1});  // step 2 sees everything so far

    // (B, 1, 1, T) × (T, T) → (B, 1, T, T): row t of sentence b opens the keys that are ≤ t AND not padding.
    const Tensor both = combine_masks(pad, causal_mask(4));
    REQUIRE(both.shape == Shape({2, 1, 4, 4}));
    CHECK(Storage(both.data.begin(), both.data.begin() + 16) == causal_mask(4).data);
    CHECK(std::vector<Real>(both.data.begin() + 16, both.data.end()) == std::vector<Real>{1, 0, 0, 0,
                                                                                          1, 1, 0, 0,
                                                                                          1, 1, 0, 0,
                                                                                          1, 1, 0, 0});
    CHECK_THROWS_AS(combine_masks(Tensor(Shape{2, 3}), Tensor(Shape{4, 4})), ShapeError);
    CHECK_THROWS_AS(padding_mask(IndexTensor(Shape{4}), 0), ShapeError);
}

// ---------------------------------------------------------------- scaled dot-product attention

TEST_CASE("transformer: scaled_dot_product_attention by hand") {
    // One query, two keys, dk = 1 (so √dk = 1): scores [0, ln 3] → weights [1/4, 3/4]; values 4 and 8 → 7.
    const Var q = constant(Tensor::from(Shape{1, 1, 1, 1}, {1}));
    const Var k = constant(Tensor::from(Shape{1, 1, 2, 1}, {0, Real(std::log(3.0))}));
    const Var v = constant(Tensor::from(Shape{1, 1, 2, 1}, {4, 8}));
    Tensor w;
    const Var out = scaled_dot_product_attention(q, k, v, nullptr, &w);
    REQUIRE(out.shape() == Shape({1, 1, 1, 1}));
    CHECK(out.item() == doctest::Approx(7).epsilon(1e-14));
    REQUIRE(w.shape == Shape({1, 1, 1, 2}));
    CHECK(w[0] == doctest::Approx(0.25).epsilon(1e-14));
    CHECK(w[1] == doctest::Approx(0.75).epsilon(1e-14));

    // Masking the second key leaves all the weight on the first: the output is its value, 4.
    const Tensor mask = Tensor::from(Shape{2}, {1, 0});
    CHECK(scaled_dot_product_attention(q, k, v, &mask, &w).item() == 4);
    CHECK(w.data == Storage{1, 0});
}

TEST_CASE("transformer: scaled_dot_product_attention gradient check (no mask, padding mask, causal mask)") {
    Rng rng(1);
    const int B = 2, h = 2, T = 4, dk = 3, dv = 2;
    const Var q = parameter(randn(Shape{B, h, T, dk}, rng), "q");
    const Var k = parameter(randn(Shape{B, h, T, dk}, rng), "k");
    const Var v = parameter(randn(Shape{B, h, T, dv}, rng), "v");
    const Tensor pad = padding_mask(padded_ids(), 0), causal = causal_mask(T), both = combine_masks(pad, causal);
    const std::pair<const char*, const Tensor*> cases[] = {{"no mask", nullptr}, {"padding", &pad}, {"causal", &causal}, {"both", &both}};
    for (const auto& [name, mask] : cases)
        check_gradients(std::string("scaled_dot_product_attention, ") + name, nullptr, {q, k, v},
                        [&] { return scaled_dot_product_attention(q, k, v, mask); });

    // Cross-attention shapes: Tq = 3 queries over Tk = 4 keys.
    const Var q3 = parameter(randn(Shape{B, h, 3, dk}, rng), "q");
    check_gradients("scaled_dot_product_attention, Tq != Tk", nullptr, {q3, k, v},
                    [&] { return scaled_dot_product_attention(q3, k, v, &pad); });
}

// ---------------------------------------------------------------- the fused op against the reference

TEST_CASE("transformer: fused MultiHeadAttention agrees with the op-by-op reference, values and gradients") {
    const int B = 2, D = 6, heads = 3;
    const Tensor pad = padding_mask(padded_ids(), 0), causal = causal_mask(4), both = combine_masks(pad, causal);
    struct Case {
        const char* name;
        int Tq;
        const Tensor* mask;
        bool self;
        Real dropout;
    };
    const Case cases[] = {{"self, no mask", 4, nullptr, true, 0},  {"self, padding + causal", 4, &both, true, 0},
                          {"cross, padding", 3, &pad, false, 0},   {"self, dropout 0.3", 4, &both, true, 0.3},
                          {"cross, dropout 0.3", 3, &pad, false, 0.3}};
    for (const Case& c : cases) {
        // Two modules built from the same seed: the same weights and the same dropout draws.
        Rng init_fast(5), init_ref(5), values(9);
        MultiHeadAttention fast(D, heads, c.dropout, init_fast), ref(D, heads, c.dropout, init_ref);
        randomize(fast, values, kParamStd);
        for (size_t i = 0; i < fast.parameters().size(); ++i) ref.parameters()[i].value() = fast.parameters()[i].value();
        const Var x_q = parameter(randn(Shape{B, c.Tq, D}, values), "x_q");
        const Var x_kv = c.self ? x_q : parameter(randn(Shape{B, 4, D}, values), "x_kv");
        const Var R = constant(randn(Shape{B, c.Tq, D}, values));  // L = Σ y ⊙ R

        // Runs one path: its output, its weights, then the gradient of every parameter and input.
        auto run = [&](MultiHeadAttention& m, bool fused) {
            tape().clear();
            std::vector<Var> wrt = m.parameters();
            wrt.push_back(x_q);
            if (!c.self) wrt.push_back(x_kv);
            zero_grad(wrt);
            const Var y = fused ? m.forward(x_q, x_kv, c.mask) : m.forward_reference(x_q, x_kv, c.mask);
            backward(sum(y * R));
            std::vector<Tensor> result{y.value(), m.last_weights()};
            for (const Var& v : wrt) result.push_back(v.grad());
            tape().clear();
            return result;
        };
        const std::vector<Tensor> a = run(fast, true), b = run(ref, false);
        REQUIRE(a.size() == b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            INFO(fmt::format("{}: result {} (0 output, 1 weights, then gradients) differs by {:.3e}", c.name, i,
                             max_abs_diff(a[i], b[i])));
            CHECK(max_abs_diff(a[i], b[i]) <= 1e-12);
        }
    }
}

TEST_CASE("transformer: gradient check of the fused multi_head_attention op, with and without dropout") {
    Rng rng(3);
    const int B = 2, heads = 2, D = 4, Tq = 4, Tk = 4;
    const Var q = parameter(randn(Shape{B, Tq, D}, rng), "q");
    const Var k = parameter(randn(Shape{B, Tk, D}, rng), "k");
    const Var v = parameter(randn(Shape{B, Tk, D}, rng), "v");
    const Tensor both = combine_masks(padding_mask(padded_ids(), 0), causal_mask(4));
    for (Real p : {Real(0), Real(0.4)}) {
        // A fresh Rng on every call: the same dropout draws on every forward, as central differences need.
        check_gradients(fmt::format("multi_head_attention, dropout {}", p), nullptr, {q, k, v}, [&] {
            Rng drops(17);
            return multi_head_attention(q, k, v, heads, &both, p, drops, true);
        });
    }
    // The same Var as queries, keys and values: every contribution must add up in the one gradient.
    check_gradients("multi_head_attention, q = k = v", nullptr, {q}, [&] {
        Rng unused;
        return multi_head_attention(q, q, q, heads, &both, 0, unused, false);
    });
}

TEST_CASE("transformer: multi_head_attention's output made again in backward: the same bits, and a gradient check") {
    // MultiHeadAttention lets O go once Wo has read it (recompute_in_backward); backward makes it again from
    // the saved weights and dropout mask. With dropout: the gradients are those of the kept O, bit for bit.
    Rng rng(7);
    const int B = 2, heads = 2, D = 4, T = 5;
    const Var q = parameter(randn(Shape{B, T, D}, rng), "q"), k = parameter(randn(Shape{B, T, D}, rng), "k"),
              v = parameter(randn(Shape{B, T, D}, rng), "v"), W = parameter(randn(Shape{D, D}, rng), "W"),
              c = parameter(randn(Shape{D}, rng), "c");
    const Tensor causal = causal_mask(T);
    const Var R = constant(randn(Shape{B, T, D}, rng));  // d loss/d out
    auto f = [&](bool drop) {
        Rng drops(17);  // the same dropout draws on every call
        const Var o = multi_head_attention(q, k, v, heads, &causal, 0.4, drops, true);  // (B, T, D)
        const Var out = linear(o, W, c);                                                 // (B, T, D)
        if (drop) {
            recompute_in_backward(o);
            CHECK(o.value().empty() == grad_enabled());  // the gradient check's other passes record nothing
        }
        return out;
    };
    auto grads = [&](bool drop) {
        tape().clear();
        zero_grad({q, k, v, W, c});
        backward(sum(f(drop) * R));
        std::vector<Tensor> out = {q.grad(), k.grad(), v.grad(), W.grad(), c.grad()};
        tape().clear();
        return out;
    };
    const std::vector<Tensor> kept = grads(false), dropped = grads(true);
    for (size_t i = 0; i < kept.size(); ++i) CHECK(kept[i].data == dropped[i].data);
    check_gradients("multi_head_attention, O made again in backward", nullptr, {q, k, v, W, c}, [&] { return f(true); });
}

// ---------------------------------------------------------------- MultiHeadAttention

TEST_CASE("transformer: MultiHeadAttention gradient check (self and cross, with masks)") {
    Rng rng(4);
    const int B = 2, D = 4, heads = 2;
    MultiHeadAttention mha(D, heads, 0.1, rng);
    randomize(mha, rng, kParamStd);
    mha.eval();  // dropout off: a deterministic function
    const Var x = parameter(randn(Shape{B, 4, D}, rng), "x");
    const Var y = parameter(randn(Shape{B, 3, D}, rng), "y");
    const Tensor pad = padding_mask(padded_ids(), 0), both = combine_masks(pad, causal_mask(4));
    check_gradients("MultiHeadAttention self, padding + causal", &mha, {x}, [&] { return mha.forward(x, x, &both); });
    check_gradients("MultiHeadAttention cross, padding", &mha, {y, x}, [&] { return mha.forward(y, x, &pad); });
    check_gradients("MultiHeadAttention self, no mask", &mha, {x}, [&] { return mha.forward(x, x, nullptr); });
}

TEST_CASE("transformer: MultiHeadAttention checks its sizes") {
    Rng rng(5);
    CHECK_THROWS_AS(MultiHeadAttention(6, 4, 0, rng), std::invalid_argument);  // 6 % 4 != 0
    CHECK_THROWS_AS(MultiHeadAttention(6, 0, 0, rng), std::invalid_argument);
    CHECK_THROWS_AS(MultiHeadAttention(8, 2, 1, rng), std::invalid_argument);  // dropout must be < 1
    MultiHeadAttention mha(8, 2, 0, rng);
    CHECK(mha.d_model() == 8);
    CHECK(mha.heads() == 2);
    const Var good = constant(Tensor(Shape{2, 3, 8})), wrong_d = constant(Tensor(Shape{2, 3, 6}));
    CHECK_THROWS_AS(mha.forward(wrong_d, wrong_d), ShapeError);
    CHECK_THROWS_AS(mha.forward(good, constant(Tensor(Shape{3, 3, 8}))), ShapeError);  // batch sizes differ
    try {
        mha.forward(wrong_d, wrong_d);
    } catch (const ShapeError& e) {
        CHECK(std::string(e.what()).find("MultiHeadAttention") != std::string::npos);
    }
    const Tensor bad_mask(Shape{5, 5});
    CHECK_THROWS_AS(mha.forward(good, good, &bad_mask), ShapeError);
    CHECK(mha.named_parameters()[0].first == "Wq.W");
}

TEST_CASE("transformer: last_weights rows sum to 1 and masked keys get exactly 0") {
    Rng rng(6);
    const int B = 2, D = 8, heads = 2, T = 4;
    MultiHeadAttention mha(D, heads, 0.5, rng);  // dropout does not touch the kept weights
    const Var x = constant(randn(Shape{B, T, D}, rng));
    const Tensor pad = padding_mask(padded_ids(), 0);
    mha.forward(x, x, &pad);
    const Tensor& w = mha.last_weights();
    REQUIRE(w.shape == Shape({B, heads, T, T}));
    for (int b = 0; b < B; ++b)
        for (int j = 0; j < heads; ++j)
            for (int i = 0; i < T; ++i) {
                const Real* row = w.ptr() + ((int64_t(b) * heads + j) * T + i) * T;
                double total = 0;
                for (int c = 0; c < T; ++c) {
                    total += row[c];
                    if (pad[b * T + c] == 0) CHECK(row[c] == 0);
                }
                CHECK(total == doctest::Approx(1).epsilon(1e-12));
            }
}

TEST_CASE("transformer: a fully padded sentence gives no NaN, forward or backward") {
    Rng rng(7);
    const int D = 8;
    const IndexTensor ids = IndexTensor::from(Shape{2, 3}, {4, 5, 6, 0, 0, 0});  // sentence 1 is all padding
    const Tensor pad = padding_mask(ids, 0);
    for (bool fused : {true, false}) {
        MultiHeadAttention mha(D, 2, 0, rng);
        const Var x = parameter(randn(Shape{2, 3, D}, rng), "x");
        tape().clear();
        const Var y = fused ? mha.forward(x, x, &pad) : mha.forward_reference(x, x, &pad);
        backward(sum(y * y));
        CHECK(all_finite(y.value()));
        CHECK(all_finite(x.grad()));
        for (int64_t i = mha.last_weights().numel() / 2; i < mha.last_weights().numel(); ++i)
            CHECK(mha.last_weights()[i] == 0);  // sentence 1 attends nowhere
        for (const Var& p : mha.parameters()) CHECK(all_finite(p.grad()));
        tape().clear();
    }
    EncoderLayer layer(D, 2, 16, 0, false, rng);
    NoGrad no_grad;
    CHECK(all_finite(layer.forward(constant(randn(Shape{2, 3, D}, rng)), &pad).value()));
}

TEST_CASE("transformer: the causal mask blocks the future exactly (MultiHeadAttention and DecoderLayer)") {
    Rng rng(8);
    const int B = 2, T = 4, D = 8, heads = 2;
    const Tensor causal = causal_mask(T);
    const Var x = parameter(randn(Shape{B, T, D}, rng), "x");
    MultiHeadAttention mha(D, heads, 0, rng);
    randomize(mha, rng, kParamStd);
    check_causal("MultiHeadAttention (fused)", [&] { return mha.forward(x, x, &causal); }, x, rng);
    check_causal("MultiHeadAttention (reference)", [&] { return mha.forward_reference(x, x, &causal); }, x, rng);
    const Var memory = constant(randn(Shape{B, 5, D}, rng));
    for (bool pre_norm : {false, true}) {
        DecoderLayer layer(D, heads, 16, 0, pre_norm, rng);
        randomize(layer, rng, kParamStd);
        check_causal(pre_norm ? "DecoderLayer (pre-norm)" : "DecoderLayer (post-norm)",
                     [&] { return layer.forward(x, memory, &causal, nullptr); }, x, rng);
    }
}

// ---------------------------------------------------------------- positional encoding

TEST_CASE("transformer: sinusoidal positional encoding by hand") {
    Rng rng(9);
    PositionalEncoding pe(5, 4, false, rng);  // D = 4: frequencies 1 and 1/10000^(2/4) = 1/100
    CHECK(pe.parameters().empty());
    CHECK_FALSE(pe.learned());
    const Tensor& t = pe.table();
    REQUIRE(t.shape == Shape({5, 4}));
    CHECK(std::vector<Real>(t.data.begin(), t.data.begin() + 4) == std::vector<Real>{0, 1, 0, 1});  // sin 0, cos 0
    CHECK(t[4] == doctest::Approx(std::sin(1.0)).epsilon(1e-15));         // pos 1, i 0: sin(1)
    CHECK(t[5] == doctest::Approx(std::cos(1.0)).epsilon(1e-15));         //             cos(1)
    CHECK(t[6] == doctest::Approx(std::sin(0.01)).epsilon(1e-15));        // pos 1, i 1: sin(1/100)
    CHECK(t[7] == doctest::Approx(std::cos(0.01)).epsilon(1e-15));
    CHECK(t[2 * 4] == doctest::Approx(std::sin(2.0)).epsilon(1e-15));     // pos 2, i 0: sin(2)

    // forward adds row t to step t of every sentence.
    const Var x = constant(Tensor(Shape{2, 3, 4}, 1));
    const Var y = pe.forward(x);
    REQUIRE(y.shape() == Shape({2, 3, 4}));
    for (int b = 0; b < 2; ++b)
        for (int i = 0; i < 12; ++i) CHECK(y.value()[b * 12 + i] == 1 + t[i]);

    // Longer than the table: a ShapeError that names the module.
    try {
        pe.forward(constant(Tensor(Shape{1, 6, 4})));
        FAIL("no exception");
    } catch (const ShapeError& e) {
        CHECK(std::string(e.what()).find("PositionalEncoding") != std::string::npos);
    }
    CHECK_THROWS_AS(pe.forward(constant(Tensor(Shape{1, 3, 5}))), ShapeError);  // wrong D
}

TEST_CASE("transformer: learned positional encoding is a parameter and is gradient-checked") {
    Rng rng(10);
    PositionalEncoding pe(6, 4, true, rng);
    CHECK(pe.learned());
    const auto named = pe.named_parameters();
    REQUIRE(named.size() == 1);
    CHECK(named[0].first == "P");
    CHECK(named[0].second.shape() == Shape({6, 4}));
    CHECK(named[0].second.requires_grad());

    const Var x = parameter(randn(Shape{2, 3, 4}, rng), "x");
    check_gradients("learned PositionalEncoding", &pe, {x}, [&] { return pe.forward(x); });

    // Loss Σ y: each of the first T = 3 rows is used by both sentences (gradient 2), the rest not at all.
    tape().clear();
    pe.zero_grad();
    backward(sum(pe.forward(x)));
    for (int i = 0; i < 6 * 4; ++i) CHECK(named[0].second.grad()[i] == (i < 3 * 4 ? 2 : 0));
    tape().clear();
}

// ---------------------------------------------------------------- LayerNorm, FFN, AddNorm

TEST_CASE("transformer: LayerNorm normalises each row and passes a gradient check") {
    Rng rng(11);
    LayerNorm ln(6);
    CHECK(ln.gamma.value().data == Storage(6, 1));
    CHECK(ln.beta.value().data == Storage(6, 0));
    const Var x = parameter(randn(Shape{2, 3, 6}, rng, 3), "x");
    {
        NoGrad no_grad;
        const Tensor y = ln.forward(x).value();  // gamma 1, beta 0: every row has mean 0 and variance ≈ 1
        for (int r = 0; r < 6; ++r) {
            double mean = 0, var = 0;
            for (int i = 0; i < 6; ++i) mean += y[r * 6 + i] / 6;
            for (int i = 0; i < 6; ++i) var += (y[r * 6 + i] - mean) * (y[r * 6 + i] - mean) / 6;
            CHECK(std::fabs(mean) < 1e-12);
            CHECK(var == doctest::Approx(1).epsilon(1e-4));  // σ² / (σ² + eps)
        }
    }
    randomize(ln, rng, kParamStd);
    check_gradients("LayerNorm", &ln, {x}, [&] { return ln.forward(x); });
}

TEST_CASE("transformer: PositionWiseFFN gradient check, and dropout only in training") {
    Rng rng(12);
    PositionWiseFFN ffn(4, 8, 0.5, rng);
    randomize(ffn, rng, kParamStd);
    ffn.eval();
    const Var x = parameter(randn(Shape{2, 3, 4}, rng), "x");
    check_gradients("PositionWiseFFN", &ffn, {x}, [&] { return ffn.forward(x); });
    const auto names = ffn.named_parameters();
    REQUIRE(names.size() == 4);
    CHECK(names[0].first == "linear1.W");
    CHECK(names[0].second.shape() == Shape({4, 8}));

    NoGrad no_grad;
    CHECK(ffn.forward(x).value().data == ffn.forward(x).value().data);  // eval: deterministic
    ffn.train();
    CHECK(ffn.forward(x).value().data != ffn.forward(x).value().data);  // training: new dropout draws
}

TEST_CASE("transformer: AddNorm post-norm and pre-norm, values and gradients") {
    Rng rng(13);
    const int D = 4;
    Linear sublayer(D, D, rng);  // a stand-in sublayer
    const Var x = parameter(randn(Shape{2, 3, D}, rng), "x");
    for (bool pre_norm : {false, true}) {
        AddNorm add_norm(D, 0, pre_norm, rng);
        randomize(add_norm, rng, kParamStd);
        CHECK(add_norm.pre_norm() == pre_norm);
        CHECK(add_norm.named_parameters()[0].first == "norm.gamma");
        {
            NoGrad no_grad;
            LayerNorm ln(D);  // the same normalisation, for the expected values
            ln.gamma.value() = add_norm.parameters()[0].value();
            ln.beta.value() = add_norm.parameters()[1].value();
            const Var h = add_norm.input(x);
            CHECK(h.value().data == (pre_norm ? ln.forward(x) : x).value().data);
            const Var s = sublayer.forward(h);
            const Var expected = pre_norm ? x + s : ln.forward(x + s);
            CHECK(max_abs_diff(add_norm.output(x, s).value(), expected.value()) == 0);
            // The sublayer handed the residual (no dropout here): it adds x itself, with the same bits.
            const Var summed = add_norm.output(x, [&](const Var& r) {
                CHECK(r.node() == x.node());
                return sublayer.forward_residual(h, r);
            });
            CHECK(summed.value().data == expected.value().data);
        }
        std::vector<Var> extra = sublayer.parameters();
        extra.push_back(x);
        check_gradients(pre_norm ? "AddNorm pre-norm" : "AddNorm post-norm", &add_norm, extra,
                        [&] { return add_norm.output(x, sublayer.forward(add_norm.input(x))); });
        // The gradients of both ways, bit for bit: the sum's dr = dy first, then the linear layer's.
        auto gradients = [&](bool summed) {
            std::vector<Var> wrt = add_norm.parameters();
            for (const Var& v : extra) wrt.push_back(v);
            tape().clear();
            zero_grad(wrt);
            const Var h = add_norm.input(x);
            const Var y = summed ? add_norm.output(x, [&](const Var& r) { return sublayer.forward_residual(h, r); })
                                 : add_norm.output(x, sublayer.forward(h));
            backward(sum(y * y));
            std::vector<Tensor> g;
            for (const Var& v : wrt) g.push_back(v.grad());
            tape().clear();
            return g;
        };
        const std::vector<Tensor> apart = gradients(false), summed = gradients(true);
        for (size_t i = 0; i < apart.size(); ++i) CHECK(apart[i].data == summed[i].data);
        check_gradients(pre_norm ? "AddNorm pre-norm, summed by the sublayer" : "AddNorm post-norm, summed by the sublayer",
                        &add_norm, extra, [&] {
                            const Var h = add_norm.input(x);
                            return add_norm.output(x, [&](const Var& r) { return sublayer.forward_residual(h, r); });
                        });
        // In training with dropout the sublayer gets no residual: the sum is made after the dropout.
        AddNorm dropping(D, Real(0.5), pre_norm, rng);
        dropping.train();
        dropping.output(x, [&](const Var& r) {
            CHECK_FALSE(r.defined());
            return sublayer.forward(x);
        });
    }
}

// ---------------------------------------------------------------- layers and stacks

TEST_CASE("transformer: EncoderLayer gradient check (post-norm and pre-norm, padding mask)") {
    Rng rng(14);
    const Tensor pad = padding_mask(padded_ids(), 0);
    for (bool pre_norm : {false, true}) {
        EncoderLayer layer(8, 2, 8, 0.1, pre_norm, rng);
        randomize(layer, rng, kParamStd);
        layer.eval();
        const Var x = parameter(randn(Shape{2, 4, 8}, rng), "x");
        check_gradients(pre_norm ? "EncoderLayer pre-norm" : "EncoderLayer post-norm", &layer, {x},
                        [&] { return layer.forward(x, &pad); });
    }
}

TEST_CASE("transformer: DecoderLayer gradient check (post-norm and pre-norm, causal + padding masks)") {
    Rng rng(15);
    const Tensor src_pad = padding_mask(IndexTensor::from(Shape{2, 3}, {4, 5, 6, 7, 8, 0}), 0);  // (2, 1, 1, S = 3)
    const Tensor self_mask = combine_masks(padding_mask(padded_ids(), 0), causal_mask(4));         // (2, 1, 4, 4)
    for (bool pre_norm : {false, true}) {
        DecoderLayer layer(8, 2, 8, 0.1, pre_norm, rng);
        randomize(layer, rng, kParamStd);
        layer.eval();
        const Var y = parameter(randn(Shape{2, 4, 8}, rng), "y");
        const Var memory = parameter(randn(Shape{2, 3, 8}, rng), "memory");
        check_gradients(pre_norm ? "DecoderLayer pre-norm" : "DecoderLayer post-norm", &layer, {y, memory},
                        [&] { return layer.forward(y, memory, &self_mask, &src_pad); });
        // The two attention modules keep their own heat maps: (B, h, T, T) and (B, h, T, S).
        CHECK(layer.self_attention().last_weights().shape == Shape({2, 2, 4, 4}));
        CHECK(layer.cross_attention().last_weights().shape == Shape({2, 2, 4, 3}));
    }
}

TEST_CASE("transformer: dropout is off in eval mode (the same as dropout 0) and on in training") {
    Rng a(16), b(16), rng(17);
    EncoderLayer with_dropout(8, 2, 16, 0.3, false, a), without(8, 2, 16, 0, false, b);  // same weights
    const Var x = constant(randn(Shape{2, 4, 8}, rng));
    NoGrad no_grad;
    with_dropout.eval();
    CHECK(with_dropout.forward(x, nullptr).value().data == without.forward(x, nullptr).value().data);
    with_dropout.train();
    CHECK(with_dropout.forward(x, nullptr).value().data != without.forward(x, nullptr).value().data);
}

TEST_CASE("transformer: encoder and decoder stacks: shapes, parameter names, gradient check") {
    Rng rng(18);
    for (bool pre_norm : {false, true}) {
        TransformerEncoder encoder(2, 4, 2, 8, 0, pre_norm, rng);
        TransformerDecoder decoder(2, 4, 2, 8, 0, pre_norm, rng);
        randomize(encoder, rng, kParamStd);
        randomize(decoder, rng, kParamStd);
        CHECK(encoder.layers().size() == 2);
        CHECK(decoder.layers().size() == 2);
        std::vector<std::string> names;
        for (auto& [name, p] : encoder.named_parameters()) names.push_back(name);
        CHECK(names.front() == "layer0.self_attn.Wq.W");
        CHECK(std::count(names.begin(), names.end(), "layer1.ffn.linear2.b") == 1);
        CHECK(std::count(names.begin(), names.end(), "norm.gamma") == (pre_norm ? 1 : 0));  // the final LN
        CHECK(decoder.named_parameters().back().first == (pre_norm ? "norm.beta" : "layer1.add_norm3.norm.beta"));

        const Tensor src_pad = padding_mask(IndexTensor::from(Shape{2, 3}, {4, 5, 6, 7, 0, 0}), 0);
        const Tensor tgt_mask = causal_mask(4);
        const Var x = parameter(randn(Shape{2, 3, 4}, rng), "x");
        const Var y = parameter(randn(Shape{2, 4, 4}, rng), "y");
        auto model = [&] { return decoder.forward(y, encoder.forward(x, &src_pad), &tgt_mask, &src_pad); };
        {
            NoGrad no_grad;
            CHECK(model().shape() == Shape({2, 4, 4}));
        }
        std::vector<Var> wrt = encoder.parameters();
        wrt.insert(wrt.end(), {x, y});
        check_gradients(pre_norm ? "encoder + decoder, pre-norm" : "encoder + decoder, post-norm", &decoder, wrt, model, 64);
    }
}

TEST_CASE("transformer: an encoder layer records few tape nodes") {
    Rng rng(19);
    EncoderLayer layer(8, 2, 16, 0.1, false, rng);
    const Var x = parameter(randn(Shape{2, 4, 8}, rng), "x");
    tape().clear();
    layer.forward(x, nullptr);
    // Attention: 4 projections × (matmul, add) and the fused op; each AddNorm: dropout, add, LN;
    // FFN: 2 × (matmul, add), relu, dropout. 21 in all.
    INFO(tape().str());
    CHECK(tape().size() <= 21);
    tape().clear();
}
