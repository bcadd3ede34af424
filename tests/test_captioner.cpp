// tests/test_captioner.cpp — the captioner (models/captioner.h): gradient checks of the whole loss in double with a
// tiny model (both wirings, with and without the doubly stochastic regulariser), the regulariser by itself, the
// attention weights it puts on the tape against the decoder's own, decoding shapes, bad images, and a short
// training run on one-shape scenes that must learn to name them.
#include <doctest/doctest.h>

#include "autodiff/ops.h"
#include "models/captioner.h"
#include "models/train.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// An 8×8 image, one pooled block of 2 channels → a 4×4 grid of 4 features; vocabulary kSceneWords.
CaptionerConfig tiny(Wiring wiring, Score score, Real lambda) {
    CaptionerConfig c;
    c.V = static_cast<int>(kSceneWords.size());
    c.height = c.width = 8;
    c.channels = {2};
    c.E = 3, c.H = 4;
    c.score = score, c.wiring = wiring, c.lambda = lambda, c.end_id = kEndWord;
    return c;
}

// Two random palette images (B 2, 8·8) and captions "_ w w ." / "_ w . ." (the second ends early).
IndexTensor tiny_pixels() {
    IndexTensor p(Shape{2, 64});
    Rng rng(3);
    for (int64_t i = 0; i < p.numel(); ++i) p[i] = rng.randint(kPaletteSize);
    return p;
}
const IndexTensor kTgt = IndexTensor::from(Shape{2, 4}, {kStartWord, 2, 6, kEndWord, kStartWord, 9, kEndWord, kEndWord});

}  // namespace

TEST_CASE("gradcheck: the captioner's whole loss, both wirings, with and without the regulariser") {
    for (Wiring wiring : {Wiring::Bahdanau, Wiring::Luong})
        for (Real lambda : {Real(0), Real(0.7)}) {
            Rng rng(5);
            Captioner model(tiny(wiring, Score::Additive, lambda), rng);
            randomize(model, rng, Real(0.5));  // biases not 0, so every path shows
            const IndexTensor pixels = tiny_pixels();
            GradcheckOptions opt;
            opt.max_elements = 48;
            const GradcheckReport r =
                gradcheck([&](const std::vector<Var>&) { return model.loss(pixels, kTgt); }, model.parameters(), opt);
            check_report(r, fmt::format("captioner loss, {} wiring, λ = {}", wiring == Wiring::Luong ? "luong" : "bahdanau", lambda));
        }
}

TEST_CASE("attention_coverage_penalty: its value by the formula, its gradient, steps after the end left out") {
    Rng rng(7);
    const Var alpha = parameter(softmax(constant(randn(Shape{2, 3, 5}, rng))).value(), "alpha");  // (B 2, T 3, L 5)
    const IndexTensor targets = IndexTensor::from(Shape{2, 3}, {4, 5, 1, 4, 1, -1});  // row 1's last step not counted
    double want = 0;
    for (int b = 0; b < 2; ++b)
        for (int l = 0; l < 5; ++l) {
            double cover = 0;
            for (int t = 0; t < 3; ++t)
                if (targets[b * 3 + t] != -1) cover += alpha.value()[(b * 3 + t) * 5 + l];
            want += (1 - cover) * (1 - cover);
        }
    CHECK(attention_coverage_penalty(alpha, targets).item() == doctest::Approx(want / 2).epsilon(1e-12));
    check_report(gradcheck([&](const std::vector<Var>& v) { return attention_coverage_penalty(v[0], targets); }, {alpha}),
                 "attention_coverage_penalty");
    CHECK(contains(shape_error_of([&] { attention_coverage_penalty(alpha, IndexTensor(Shape{2, 4})); }), "(B, T, L)"));
}

TEST_CASE("captioner: the weights put on the tape are the decoder's own, both wirings") {
    for (Wiring wiring : {Wiring::Bahdanau, Wiring::Luong}) {
        Rng rng(9);
        Captioner model(tiny(wiring, Score::Dot, 0), rng);
        randomize(model, rng, Real(0.5));
        auto [hs, state] = model.encode(tiny_pixels());
        CHECK(hs.shape() == Shape{2, 16, 4});
        const Var keys = model.decoder.keys(hs);
        for (int t = 0; t < 3; ++t) {
            const StackState before = state;
            model.decoder.step(IndexTensor::from(Shape{2}, {kStartWord, 2 + t}), hs, keys, nullptr, state, nullptr);
            const Var a = model.step_weights(keys, before, state);
            INFO("step ", t);
            CHECK(a.value().data == model.decoder.last_weights().data);
        }
        tape().clear();
    }
}

TEST_CASE("captioner: greedy and beam captions, attention maps over the grid, bad images refused") {
    Rng rng(11);
    Captioner model(tiny(Wiring::Bahdanau, Score::Additive, 0), rng);
    const IndexTensor pixels = tiny_pixels();
    const IndexTensor greedy = model.generate(pixels, kStartWord, 5);
    CHECK(greedy.shape == Shape{2, 5});
    const Tensor& map = model.attention_map();
    REQUIRE(map.shape == Shape{2, 5, 16});
    for (int r = 0; r < 10; ++r) {  // each word's weights over the 16 grid cells sum to 1
        double total = 0;
        for (int l = 0; l < 16; ++l) total += map[r * 16 + l];
        CHECK(total == doctest::Approx(1).epsilon(1e-12));
    }
    CHECK(model.grid_size() == std::pair{4, 4});
    CHECK(model.beam_search(pixels, kStartWord, 5, 1, 0).data == greedy.data);  // k = 1 is greedy decoding
    CHECK(model.beam_search(pixels, kStartWord, 5, 3, Real(0.6)).shape == Shape{2, 5});
    CHECK(contains(error_of([&] { model.encode(IndexTensor(Shape{2, 63})); }), "(B, 8·8 = 64)"));
    IndexTensor bad = pixels;
    bad[64 + 10] = 7;
    CHECK(contains(error_of([&] { model.encode(bad); }), "pixel 10 of image 1 holds 7, not a palette id 0..4"));
    CaptionerConfig small = tiny(Wiring::Bahdanau, Score::Dot, 0);
    small.channels = {2, 2, 2, 2};  // 8 → 4 → 2 → 1 → 0
    CHECK(contains(error_of([&] { Captioner m(small, rng); }), "too small for 4 pooled blocks"));
}

TEST_CASE("captioner: a short training run learns to name one shape") {
    // 16×16 scenes of one shape: 12 captions ("red circle" … "yellow triangle"), chance 1 in 12.
    SceneOptions o;
    o.size = 16, o.min_objects = o.max_objects = 1, o.min_shape = 6, o.max_shape = 8;
    const SceneSplit data = make_scene_split(384, 96, o, 1);
    const int width = caption_width(o);
    CaptionerConfig c;
    c.V = static_cast<int>(kSceneWords.size());
    c.height = c.width = 16;
    c.channels = {8};
    c.E = 8, c.H = 16, c.end_id = kEndWord;
    Rng rng(2);
    Captioner model(c, rng);
    Adam opt(model.parameters(), Real(0.01));
    const double before = score_captions(model, data.test, width, 32).exact_match;
    Rng shuffle(4);
    std::vector<int> order(data.train.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    double first_loss = 0, last_loss = 0;
    for (int epoch = 0; epoch < 12; ++epoch) {
        shuffle.shuffle(order);
        double loss = 0;
        for (size_t i = 0; i < order.size(); i += 32) {
            const std::vector<int> rows(order.begin() + i, order.begin() + i + 32);
            loss += train_step(model, scene_batch(data.train, rows, width), opt, 5);
        }
        (epoch == 0 ? first_loss : last_loss) = loss / (order.size() / 32);
    }
    const CaptionScores after = score_captions(model, data.test, width, 32);
    INFO("exact match before ", before, ", after ", after.exact_match, "; loss ", first_loss, " → ", last_loss);
    CHECK(before < 0.2);
    CHECK(last_loss < first_loss / 2);
    CHECK(after.exact_match >= 0.5);  // chance is 1 in 12
    CHECK(after.bleu.precision[0] >= 0.75);  // words right even where the whole caption is not
}
