// tests/test_attention_variants.cpp — chapter 7's ops and layers: conv1d, gather_windows and spread_windows
// against plain loops and gradient-checked in double; local-p attention against a plain-loop reference, gradient-checked with masks
// (the centre p_t learning through the Gaussian alone), blind outside its window; location-aware attention
// gradient-checked over a chain of steps with masks and, with its location path zeroed, equal to the additive
// score; the guided attention loss against its formula, padding excluded, gradient-checked, and in the model
// guiding each copied letter to its own position; and the attention seq2seq with each variant: whole-loss
// gradients, decoding, beam search's state reordering and the errors.
//
// Dimensions: B batch, Tq query steps, S source steps, H sizes, K filter width, D half-width, W = 2D + 1.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "experiments/attention_variants.h"
#include "models/attention_seq2seq.h"
#include "nn/attention_variants.h"
#include "tests/util.h"

using namespace s2a;

namespace {

const Tensor* mask_arg(const Tensor& mask) { return mask.empty() ? nullptr : &mask; }

// Gradient check of f over inputs, then every gradient must be finite.
void check_gradients(const std::string& what, const std::function<Var(const std::vector<Var>&)>& f, const std::vector<Var>& inputs) {
    check_report(gradcheck(f, inputs), what);
    for (const Var& x : inputs) CHECK_MESSAGE(all_finite(x.grad()), what << ": gradient of " << x.name());
}

// conv1d by its definition: y[b, s, o] = Σₖ Σ_c x[b, s + k − P, c] · w[k, c, o], x = 0 outside.
Tensor conv1d_loops(const Tensor& x, const Tensor& w) {
    const int B = x.dim(0), S = x.dim(1), Cin = x.dim(2), K = w.dim(0), Cout = w.dim(2), P = (K - 1) / 2;
    Tensor y(Shape{B, S, Cout});
    for (int b = 0; b < B; ++b)
        for (int s = 0; s < S; ++s)
            for (int o = 0; o < Cout; ++o) {
                double total = 0;
                for (int k = 0; k < K; ++k)
                    for (int c = 0; c < Cin; ++c) {
                        const int from = s + k - P;
                        if (from >= 0 && from < S) total += x[(int64_t(b) * S + from) * Cin + c] * w[(int64_t(k) * Cin + c) * Cout + o];
                    }
                y[(int64_t(b) * S + s) * Cout + o] = static_cast<Real>(total);
            }
    return y;
}

// Local-p attention with the dot score by plain loops, straight from the formulas of nn/attention_variants.h:
// q (B, Tq, H), hs (B, S, H), Wp (H, A), vp (A), lengths of the real (leading) positions → c (B, Tq, H).
Tensor local_p_loops(const Tensor& q, const Tensor& hs, const Tensor& Wp, const Tensor& vp, const std::vector<int>& lengths, int D) {
    const int B = q.dim(0), Tq = q.dim(1), H = q.dim(2), S = hs.dim(1), A = vp.dim(0), W = 2 * D + 1;
    const double sigma = D / 2.0;
    Tensor c(Shape{B, Tq, H});
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < Tq; ++t) {
            const Real* h = q.ptr() + (int64_t(b) * Tq + t) * H;
            double z = 0;  // v_pᵀ tanh(W_p h)
            for (int u = 0; u < A; ++u) {
                double pre = 0;
                for (int i = 0; i < H; ++i) pre += h[i] * Wp[int64_t(i) * A + u];
                z += vp[u] * std::tanh(pre);
            }
            const double p = lengths[b] / (1 + std::exp(-z));
            const int start = static_cast<int>(std::lround(p)) - D;
            std::vector<double> e(W, 0), a(W, 0);
            double mx = -INFINITY, total = 0;
            for (int j = 0; j < W; ++j) {
                const int s = start + j;
                if (s < 0 || s >= lengths[b]) continue;
                for (int i = 0; i < H; ++i) e[j] += h[i] * hs[(int64_t(b) * S + s) * H + i];
                mx = std::max(mx, e[j]);
            }
            for (int j = 0; j < W; ++j) {
                const int s = start + j;
                if (s >= 0 && s < lengths[b]) total += a[j] = std::exp(e[j] - mx);
            }
            for (int j = 0; j < W; ++j) {
                const int s = start + j;
                if (!(s >= 0 && s < lengths[b])) continue;
                const double weight = a[j] / total * std::exp(-(s - p) * (s - p) / (2 * sigma * sigma));
                for (int i = 0; i < H; ++i) c[(int64_t(b) * Tq + t) * H + i] += static_cast<Real>(weight * hs[(int64_t(b) * S + s) * H + i]);
            }
        }
    return c;
}

const Tensor& param(const Module& m, const std::string& name) {
    for (auto& [n, p] : m.named_parameters())
        if (n == name) return p.value();
    throw std::invalid_argument("no parameter " + name);
}

}  // namespace

// ---------------------------------------------------------------- conv1d

TEST_CASE("conv1d: equals its definition and its gradients pass in double, odd and even K, Cin > 1") {
    Rng rng(3);
    for (const Shape& ws : {Shape{3, 2, 4}, Shape{4, 3, 2}, Shape{1, 2, 3}, Shape{7, 1, 2}}) {  // K 3, 4, 1, and K > S
        const Var x = parameter(randn(Shape{2, 5, ws[1]}, rng), "x"), w = parameter(randn(ws, rng), "w");
        INFO("w ", ws.str());
        CHECK(max_abs_diff(conv1d(x, w).value(), conv1d_loops(x.value(), w.value())) < 1e-12);
        tape().clear();
        check_gradients("conv1d w " + ws.str(), [](const std::vector<Var>& v) { return conv1d(v[0], v[1]); }, {x, w});
    }
    const Var x = constant(Tensor(Shape{2, 5, 3})), w = constant(Tensor(Shape{3, 2, 4}));
    CHECK(contains(shape_error_of([&] { conv1d(x, w); }), "conv1d"));
}

// ---------------------------------------------------------------- gather_windows

TEST_CASE("gather_windows: copies the window rows, zeros past the ends, gradients add up over overlaps") {
    Rng rng(4);
    const Var x = parameter(randn(Shape{2, 6, 3}, rng), "x");
    const IndexTensor starts = IndexTensor::from(Shape{2, 3}, {-2, 1, 2, 4, 3, 0});  // off the left, overlapping, off the right
    const Var y = gather_windows(x, starts, 4);
    REQUIRE(y.shape() == Shape{6, 4, 3});
    for (int r = 0; r < 6; ++r)
        for (int j = 0; j < 4; ++j)
            for (int i = 0; i < 3; ++i) {
                const int b = r / 3, s = starts[r] + j;
                const Real want = s >= 0 && s < 6 ? x.value()[(int64_t(b) * 6 + s) * 3 + i] : Real(0);
                CHECK(y.value()[(int64_t(r) * 4 + j) * 3 + i] == want);
            }
    tape().clear();
    check_gradients("gather_windows", [&](const std::vector<Var>& v) { return gather_windows(v[0], starts, 4); }, {x});
}

TEST_CASE("spread_windows: lays each window over the source, drops slots past the ends, gradients in double") {
    Rng rng(4);
    const int B = 2, Tq = 3, W = 4, S = 6;
    const Var a = parameter(randn(Shape{B, Tq, W}, rng), "a");
    const IndexTensor starts = IndexTensor::from(Shape{B, Tq}, {-2, 1, 2, 4, 3, 0});  // off the left, inside, off the right
    const Var y = spread_windows(a, starts, S);
    REQUIRE(y.shape() == Shape{B, Tq, S});
    for (int r = 0; r < B * Tq; ++r)
        for (int s = 0; s < S; ++s) {
            const int j = s - starts[r];
            CHECK(y.value()[int64_t(r) * S + s] == (j >= 0 && j < W ? a.value()[int64_t(r) * W + j] : Real(0)));
        }
    tape().clear();
    check_gradients("spread_windows", [&](const std::vector<Var>& v) { return spread_windows(v[0], starts, S); }, {a});
    CHECK(contains(shape_error_of([&] { spread_windows(a, IndexTensor(Shape{B, Tq + 1}), S); }), "spread_windows"));
}

// ---------------------------------------------------------------- LocalAttention

TEST_CASE("local-p attention: equals the plain-loop reference, with and without padding") {
    Rng rng(5);
    const int B = 2, Tq = 3, S = 9, H = 4, D = 2;
    AttentionWeight weight(Score::Dot, H, H, rng);
    LocalAttention local(weight, D, rng, 3);
    randomize(local, rng);
    const Var q = constant(randn(Shape{B, Tq, H}, rng)), hs = constant(randn(Shape{B, S, H}, rng));
    for (const std::vector<int>& lengths : {std::vector<int>{9, 9}, std::vector<int>{9, 5}, std::vector<int>{4, 0}}) {
        const Tensor mask = lengths_mask(lengths, S);
        const Var c = local.forward(q, hs, weight.keys(hs), &mask);
        INFO("lengths ", lengths[0], ", ", lengths[1]);
        CHECK(max_abs_diff(c.value(), local_p_loops(q.value(), hs.value(), param(local, "Wp"), param(local, "vp"), lengths, D)) < 1e-12);
        // The centres lie in the sentence: 0 ≤ p ≤ S_b.
        for (int r = 0; r < B * Tq; ++r) {
            CHECK(local.last_centres()[r] >= 0);
            CHECK(local.last_centres()[r] <= lengths[r / Tq]);
        }
        // The weights shown are zero outside each window and at padding.
        const Tensor& a = local.last_weights();
        for (int r = 0; r < B * Tq; ++r)
            for (int s = 0; s < S; ++s)
                if (std::fabs(s - local.last_centres()[r]) > D + 0.5 || s >= lengths[r / Tq]) CHECK(a[int64_t(r) * S + s] == 0);
        tape().clear();
    }
}

TEST_CASE("local-p attention: gradients in double with masks, every score; the centre learns through the Gaussian") {
    for (Score score : {Score::Dot, Score::General, Score::Additive, Score::Concat})
        for (const std::vector<int>& lengths : {std::vector<int>{}, std::vector<int>{8, 5}, std::vector<int>{6, 0}}) {
            Rng rng(6);
            const int B = 2, Tq = 3, S = 8, H = 4, D = 2;
            AttentionWeight weight(score, H, H, rng);
            LocalAttention local(weight, D, rng);
            randomize(weight, rng);
            randomize(local, rng);
            const Tensor mask = lengths.empty() ? Tensor() : lengths_mask(lengths, S);
            std::vector<Var> inputs = weight.parameters();
            for (const Var& p : local.parameters()) inputs.push_back(p);
            inputs.push_back(parameter(randn(Shape{B, Tq, H}, rng), "q"));
            inputs.push_back(parameter(randn(Shape{B, S, H}, rng), "hs"));
            const std::string what = fmt::format("local-p, {} score, {} lengths", score_name(score), lengths.size());
            check_gradients(what, [&](const std::vector<Var>& v) {
                const Var &q = v[v.size() - 2], &hs = v.back();
                return local.forward(q, hs, weight.keys(hs), mask_arg(mask));
            }, inputs);
            // W_p and v_p reach the output only through p_t and the Gaussian: their gradient must not be zero.
            double norm = 0;
            for (Real g : local.parameters()[0].grad().data) norm += std::fabs(g);
            CHECK_MESSAGE(norm > 0, what);
        }
}

TEST_CASE("local-p attention: blind outside its window, and bad shapes named") {
    Rng rng(7);
    const int S = 20, H = 3, D = 2;
    AttentionWeight weight(Score::General, H, H, rng);
    LocalAttention local(weight, D, rng);
    const Var q = constant(randn(Shape{1, 1, H}, rng));
    Tensor hs = randn(Shape{1, S, H}, rng);
    const Var c = local.forward(q, constant(hs), weight.keys(constant(hs)), nullptr);
    const int centre = static_cast<int>(std::lround(local.last_centres()[0]));
    for (int s = 0; s < S; ++s)  // change every source state outside the window
        if (std::abs(s - centre) > D)
            for (int i = 0; i < H; ++i) hs[int64_t(s) * H + i] += 10;
    const Var c2 = local.forward(q, constant(hs), weight.keys(constant(hs)), nullptr);
    CHECK(max_abs_diff(c.value(), c2.value()) == 0);
    CHECK(contains(shape_error_of([&] { local.forward(constant(Tensor(Shape{1, 1, H + 1})), constant(hs), constant(hs), nullptr); }),
                   "LocalAttention"));
    CHECK(contains(error_of([&] { LocalAttention(weight, 0, rng); }), "half-width"));
    tape().clear();
}

// ---------------------------------------------------------------- LocationAwareAttention

TEST_CASE("location-aware attention: gradients in double over three chained steps, with masks") {
    for (const std::vector<int>& lengths : {std::vector<int>{}, std::vector<int>{6, 4}, std::vector<int>{5, 0}}) {
        Rng rng(8);
        const int B = 2, S = 6, Hq = 3, Hk = 4;
        AttentionWeight weight(Score::Additive, Hq, Hk, rng, 3);
        LocationAwareAttention location(weight, 2, 3, rng);
        randomize(location, rng);
        const Tensor mask = lengths.empty() ? Tensor() : lengths_mask(lengths, S);
        std::vector<Var> inputs = weight.parameters();
        for (const Var& p : location.parameters()) inputs.push_back(p);
        inputs.push_back(parameter(randn(Shape{B, 3, Hq}, rng), "q"));
        inputs.push_back(parameter(randn(Shape{B, S, Hk}, rng), "hs"));
        check_gradients(fmt::format("location-aware, {} lengths", lengths.size()), [&](const std::vector<Var>& v) {
            const Var &q = v[v.size() - 2], keys = weight.keys(v.back());
            Var prev = constant(Tensor(Shape{B, S}));  // α_0 = 0
            std::vector<Var> steps;
            for (int t = 0; t < 3; ++t) {  // each step's weights are the next one's α_{t−1}: the gradient flows back through them
                steps.push_back(location.weights(slice(q, 1, t, t + 1), keys, prev, mask_arg(mask)));
                prev = reshape(steps.back(), Shape{B, S});
            }
            return concat(steps, 1);
        }, inputs);
    }
}

TEST_CASE("location-aware attention: with U = 0 it is the additive score; it needs the additive score") {
    Rng rng(9);
    AttentionWeight weight(Score::Additive, 3, 3, rng);
    LocationAwareAttention location(weight, 2, 5, rng);
    for (auto& [name, p] : location.named_parameters())
        if (name == "U") p.value().fill(0);
    const Var q = constant(randn(Shape{2, 1, 3}, rng)), hs = constant(randn(Shape{2, 7, 3}, rng));
    const Tensor mask = lengths_mask({7, 4}, 7);
    const Var prev = constant(rand_uniform(Shape{2, 7}, rng, 0, 1));
    CHECK(max_abs_diff(location.weights(q, weight.keys(hs), prev, &mask).value(), weight.forward(q, hs, &mask).value()) < 1e-15);
    AttentionWeight dot(Score::Dot, 3, 3, rng);
    CHECK(contains(error_of([&] { LocationAwareAttention(dot, 2, 5, rng); }), "additive"));
    CHECK(contains(shape_error_of([&] { location.weights(q, weight.keys(hs), constant(Tensor(Shape{2, 6})), &mask); }),
                   "LocationAwareAttention"));
    tape().clear();
}

// ---------------------------------------------------------------- the guided attention loss

TEST_CASE("guided attention loss: its formula, padding excluded, gradients in double") {
    Rng rng(10);
    const int B = 2, T = 4, S = 5;
    const std::vector<int> src = {5, 3}, tgt = {4, 2};
    const Real g = Real(0.3);
    const Var a = parameter(rand_uniform(Shape{B, T, S}, rng, 0, 1), "a");
    double want = 0;
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < tgt[b]; ++t)
            for (int s = 0; s < src[b]; ++s) {
                const double off = double(s) / src[b] - double(t) / tgt[b];
                want += a.value()[(int64_t(b) * T + t) * S + s] * (1 - std::exp(-off * off / (2 * g * g)));
            }
    want /= 6;  // Σ_b T_b
    const Var loss = guided_attention_loss(a, src, tgt, g);
    CHECK(loss.item() == doctest::Approx(want).epsilon(1e-12));
    backward(loss);
    // Padding gets exactly 0 gradient: row 1 beyond t = 2 or s = 3.
    for (int t = 0; t < T; ++t)
        for (int s = 0; s < S; ++s)
            if (t >= tgt[1] || s >= src[1]) CHECK(a.grad()[(int64_t(1) * T + t) * S + s] == 0);
    // On the diagonal the guide is 0: attention there costs nothing.
    CHECK(attention_guide({4}, {4}, 4, 4, g)[(int64_t(2) * 4) + 2] == 0);
    tape().clear();
    check_gradients("guided_attention_loss", [&](const std::vector<Var>& v) { return guided_attention_loss(v[0], src, tgt, g); }, {a});
    CHECK(contains(error_of([&] { attention_guide({6}, {2}, 4, 5, g); }), "outside"));
    CHECK(contains(error_of([&] { attention_guide({5}, {2}, 4, 5, 0); }), "g must be"));
}

// ---------------------------------------------------------------- the model

namespace {

// B 2, S 5 (row 1 ends in two pads, id 0), target 3 + 1, vocabulary 6; the answers end with 0 (the end symbol).
const IndexTensor kSrc = IndexTensor::from(Shape{2, 5}, {1, 2, 3, 4, 5, 4, 3, 2, 0, 0});
const IndexTensor kTgt = IndexTensor::from(Shape{2, 4}, {5, 3, 1, 2, 5, 2, 0, 0});

AttentionConfig tiny(Attend attend, Wiring wiring, Real guided) {
    AttentionConfig c;
    c.V = 6, c.E = 3, c.H = 4, c.score = Score::Additive, c.wiring = wiring, c.pad_id = 0, c.end_id = 0;
    c.attend = attend, c.window = 1, c.location_filters = 2, c.location_width = 3, c.guided_weight = guided;
    return c;
}

}  // namespace

TEST_CASE("attention variants in the model: whole-loss gradients, Luong and Bahdanau, guided or not") {
    for (Wiring w : {Wiring::Luong, Wiring::Bahdanau})
        for (Attend attend : {Attend::Global, Attend::LocalP, Attend::Location})
            for (Real guided : {Real(0), Real(0.5)}) {
                Rng rng(11);
                AttentionSeq2seq model(tiny(attend, w, guided), rng);
                GradcheckOptions opt;
                opt.max_elements = 64;
                const GradcheckReport r = gradcheck([&](const std::vector<Var>&) { return model.loss(kSrc, kTgt); },
                                                    model.parameters(), opt);
                INFO(attend_name(attend), (w == Wiring::Luong ? " luong" : " bahdanau"), " guided ", guided, "\n", r.str());
                CHECK(r.pass);
            }
}

TEST_CASE("attention variants in the model: the guided loss adds λ · L_guided; decoding and beam search run") {
    Rng rng(12), same(12);
    AttentionSeq2seq plain(tiny(Attend::Location, Wiring::Luong, 0), rng), guided(tiny(Attend::Location, Wiring::Luong, 2), same);
    const double ce = plain.loss(kSrc, kTgt).item(), total = guided.loss(kSrc, kTgt).item();
    CHECK(total > ce);  // the same weights: the difference is 2 · L_guided > 0
    tape().clear();
    for (Attend attend : {Attend::LocalP, Attend::Location}) {
        Rng r(13);
        AttentionSeq2seq model(tiny(attend, Wiring::Bahdanau, 0), r);
        const IndexTensor out = model.generate(kSrc, 5, 3);
        CHECK(out.shape == Shape{2, 3});
        CHECK(model.attention_map().shape == Shape{2, 3, 5});
        for (int t = 0; t < 3; ++t) CHECK(model.attention_map()[(int64_t(1) * 3 + t) * 5 + 4] == 0);  // padding
        CHECK(model.beam_search(kSrc, 5, 3, 3, Real(0.6)).shape == Shape{2, 3});  // reorders state.alignment too
    }
}

TEST_CASE("guided loss in the model: when copying, step t is guided to s = t; the end step and padding are free") {
    // Two copies, pad = end = 0, start 7: "1234" (S_b 4, then its end symbol) and "123456" (S_b 6, no room for one).
    const IndexTensor src = IndexTensor::from(Shape{2, 6}, {1, 2, 3, 4, 0, 0, 1, 2, 3, 4, 5, 6});
    const IndexTensor tgt = IndexTensor::from(Shape{2, 7}, {7, 1, 2, 3, 4, 0, 0, 7, 1, 2, 3, 4, 5, 6});
    const int T = 6, S = 6;
    const std::vector<int> letters = guide_lengths(answer_targets(tgt, 0), 0), spans = {4, 6};
    CHECK(letters == std::vector<int>{4, 6});  // the end symbol is not counted
    const Real g = Real(0.2);
    const Tensor W = attention_guide(spans, letters, T, S, g);  // (B, T, S)
    const auto w = [&](int b, int t, int s) { return W[(int64_t(b) * T + t) * S + s]; };
    for (int b = 0; b < 2; ++b)
        for (int t = 0; t < T; ++t)
            for (int s = 0; s < S; ++s) {
                INFO("b ", b, " t ", t, " s ", s);
                if (t >= letters[b] || s >= spans[b]) CHECK(w(b, t, s) == 0);  // the end step and padding
                else if (s == t) CHECK(w(b, t, s) == 0);                       // the letter to read costs nothing
                else CHECK(w(b, t, s) > Real(0.05));                           // any other costs
            }
    // The model adds exactly λ · L_guided with these lengths to the cross-entropy, from the same weights.
    AttentionConfig c = tiny(Attend::Global, Wiring::Luong, 0);
    c.V = 8, c.guided_g = g;
    Rng rng(15), same(15);
    AttentionSeq2seq plain(c, rng);
    c.guided_weight = Real(0.5);
    AttentionSeq2seq guided(c, same);
    const double ce = plain.loss(src, tgt).item(), total = guided.loss(src, tgt).item();
    const Tensor mask = source_mask(src, 0, false);
    auto [hs, state] = guided.encoder.forward(src);
    Var a;  // (B, T, S)
    guided.decoder.forward(columns(tgt, 0, T), hs, &mask, state, &a);
    CHECK(total - ce == doctest::Approx(0.5 * guided_attention_loss(a, spans, letters, g).item()).epsilon(1e-9));
    tape().clear();
}

TEST_CASE("attention variants in the model: names and refused combinations") {
    CHECK(parse_attend("local-p") == Attend::LocalP);
    CHECK(contains(error_of([] { parse_attend("monotonic"); }), "global, local-p, location"));
    Rng rng(14);
    AttentionConfig reversed = tiny(Attend::Global, Wiring::Luong, 1);
    reversed.reversed_source = true;
    CHECK(contains(error_of([&] { AttentionSeq2seq m(reversed, rng); }), "not reversed"));
    AttentionConfig dot = tiny(Attend::Location, Wiring::Luong, 0);
    dot.score = Score::Dot;
    CHECK(contains(error_of([&] { AttentionSeq2seq m(dot, rng); }), "additive"));
}

TEST_CASE("chapter 7's model names: each gives its attention, and the guided ones the guided loss") {
    const AttentionConfig base;
    const std::vector<std::tuple<const char*, Attend, bool>> names = {{"global", Attend::Global, false},
        {"local-p", Attend::LocalP, false}, {"location", Attend::Location, false}, {"guided", Attend::Global, true},
        {"guided-local-p", Attend::LocalP, true}, {"guided-location", Attend::Location, true}};
    for (const auto& [name, attend, guided] : names) {
        CAPTURE(name);
        const AttentionConfig c = variant_config(base, name, Real(0.1), Real(0.2));
        CHECK(c.attend == attend);
        CHECK(c.guided_weight == (guided ? Real(0.1) : 0));
    }
    CHECK(variant_list_problem("guided-location,location,guided") == "");
    CHECK(variant_list_problem("guided-global").find("unknown model 'guided-global'") != std::string::npos);
    CHECK_THROWS_AS(variant_config(base, "guided-global", Real(0.1), Real(0.2)), std::invalid_argument);
}
