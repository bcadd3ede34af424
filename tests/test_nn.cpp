// tests/test_nn.cpp — tests of nn/: initialisers, Linear, Embedding, the optimizers, gradient clipping,
// checkpoints and the parameter summary.
//
// Layers are gradient-checked in double precision with s2a::gradcheck (their parameters and their input are
// all checked); optimizers are held to updates worked out by hand; checkpoints must round-trip exactly and
// refuse, without side effects, any file that does not fit the model.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "io/checkpoint.h"
#include "io/npz.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/optim.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// Runs gradcheck on a layer: its parameters and the input x are all perturbed, f computes the output.
void check_layer(const std::string& what, const Module& layer, const std::vector<Var>& extra_inputs,
                 const std::function<Var(const std::vector<Var>&)>& f) {
    std::vector<Var> inputs = layer.parameters();
    inputs.insert(inputs.end(), extra_inputs.begin(), extra_inputs.end());
    const GradcheckReport report = gradcheck(f, inputs);
    INFO(what << "\n" << report.str());
    CHECK(report.pass);
}

// A small model tree for the checkpoint tests: parameters "embed.W", "proj.W", "proj.b", "head.W".
struct TinyModel : Module {
    Embedding embed;
    Linear proj, head;
    TinyModel(Rng& rng, int hidden = 4) : embed(5, 3, rng), proj(3, hidden, rng), head(hidden, 2, rng, false) {
        add_child("embed", embed);
        add_child("proj", proj);
        add_child("head", head);
    }
    // ids: (B, T) → (B, T, 2)
    Var forward(const IndexTensor& ids) const { return head.forward(tanh(proj.forward(embed.forward(ids)))); }
};

// Every parameter value of m, in order: a snapshot to compare against.
std::vector<Tensor> values_of(const Module& m) {
    std::vector<Tensor> out;
    for (const Var& p : m.parameters()) out.push_back(p.value());
    return out;
}

bool same_values(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].shape != b[i].shape || a[i].data != b[i].data) return false;
    return true;
}

// load(m, path) must refuse with a message that names the file and each of `parts`, and leave m as it was.
void expect_refused(Module& m, const std::string& path, std::initializer_list<std::string> parts) {
    const std::vector<Tensor> before = values_of(m);
    const std::string msg = error_of([&] { load(m, path); });
    INFO(msg);
    CHECK(contains(msg, path));
    for (const std::string& part : parts) CHECK_MESSAGE(contains(msg, part), part);
    CHECK(same_values(before, values_of(m)));
}

}  // namespace

// ---------------------------------------------------------------- initialisers

TEST_CASE("nn: initialisers are seeded, bounded and of the right scale") {
    Rng a(7), b(7);
    const Tensor x1 = init_xavier(Shape{40, 60}, a), x2 = init_xavier(Shape{40, 60}, b);
    CHECK(x1.data == x2.data);  // same seed, same numbers
    const double bound = std::sqrt(6.0 / 100);
    double sum_sq = 0;
    for (Real v : x1.data) {
        CHECK(std::fabs(v) <= bound);
        sum_sq += double(v) * v;
    }
    // U(-a, a) has variance a² / 3 = 2 / (fan_in + fan_out) = 0.02; 2400 samples pin it within a few %.
    CHECK(sum_sq / x1.numel() == doctest::Approx(0.02).epsilon(0.1));

    Rng c(3);
    const Tensor n = init_normal(Shape{100, 100}, 0.5, c);
    double mean = 0, var = 0;
    for (Real v : n.data) mean += v;
    mean /= n.numel();
    for (Real v : n.data) var += (v - mean) * (v - mean);
    var /= n.numel();
    CHECK(std::fabs(mean) < 0.02);
    CHECK(std::sqrt(var) == doctest::Approx(0.5).epsilon(0.03));

    const Tensor u = init_uniform(Shape{1000}, 0.1, c);
    for (Real v : u.data) CHECK(std::fabs(v) <= 0.1);
    const Tensor z = init_zeros(Shape{2, 3});
    CHECK(z.shape == Shape({2, 3}));
    for (Real v : z.data) CHECK(v == 0);

    CHECK_THROWS_AS(init_xavier(Shape{2, 3, 4}, c), std::invalid_argument);
    CHECK_THROWS_AS(init_normal(Shape{2}, -1, c), std::invalid_argument);
}

// ---------------------------------------------------------------- Linear

TEST_CASE("nn: Linear forward matches a hand computation") {
    tape().clear();
    Rng rng(1);
    Linear lin(3, 2, rng);
    REQUIRE(lin.W.shape() == Shape({3, 2}));
    REQUIRE(lin.b.shape() == Shape({2}));
    lin.W.value() = Tensor::from(Shape{3, 2}, {1, 2,    // W: (in 3, out 2)
                                               3, 4,
                                               5, 6});
    lin.b.value() = Tensor::from(Shape{2}, {0.5, -1});
    // x: (2, 3). Row 0: [1, 0, -1] · W = [1 - 5, 2 - 6] = [-4, -4], + b = [-3.5, -5].
    //            Row 1: [2, 1, 0] · W = [2 + 3, 4 + 4] = [5, 8],    + b = [5.5, 7].
    Var x = constant(Tensor::from(Shape{2, 3}, {1, 0, -1, 2, 1, 0}));
    Var y = lin.forward(x);
    REQUIRE(y.shape() == Shape({2, 2}));
    CHECK(y.value().data == Storage{-3.5, -5, 5.5, 7});

    // The same rows inside a (1, 2, 3) batch give the same numbers in shape (1, 2, 2).
    Var y3 = lin.forward(constant(Tensor::from(Shape{1, 2, 3}, {1, 0, -1, 2, 1, 0})));
    REQUIRE(y3.shape() == Shape({1, 2, 2}));
    CHECK(y3.value().data == Storage{-3.5, -5, 5.5, 7});

    // Without bias: no "b", and just x · W.
    Linear nob(3, 2, rng, false);
    CHECK_FALSE(nob.b.defined());
    REQUIRE(nob.named_parameters().size() == 1);
    CHECK(nob.named_parameters()[0].first == "W");
    nob.W.value() = lin.W.value();
    CHECK(nob.forward(x).value().data == Storage{-4, -4, 5, 8});

    // A single vector (in) → (out).
    Var v = lin.forward(constant(Tensor::from(Shape{3}, {2, 1, 0})));
    CHECK(v.shape() == Shape({2}));
    CHECK(v.value().data == Storage{5.5, 7});
    tape().clear();
}

TEST_CASE("nn: Linear gradient check (2-D and 3-D input, with and without bias)") {
    Rng rng(11);
    for (bool bias : {true, false}) {
        Linear lin(4, 3, rng, bias);
        lin.zero_grad();
        if (bias) lin.b.value() = init_normal(Shape{3}, 1, rng);  // not zero, so a wrong bias path would show
        const std::string tag = bias ? "with bias" : "without bias";

        Var x2 = parameter(randn(Shape{5, 4}, rng), "x");  // (N, in)
        check_layer("Linear 2-D " + tag, lin, {x2}, [&](const std::vector<Var>& v) { return lin.forward(v.back()); });

        Var x3 = parameter(randn(Shape{2, 3, 4}, rng), "x");  // (B, T, in)
        check_layer("Linear 3-D " + tag, lin, {x3}, [&](const std::vector<Var>& v) { return lin.forward(v.back()); });
    }
}

TEST_CASE("nn: Linear rejects an input of the wrong size") {
    Rng rng(2);
    Linear lin(4, 3, rng);
    const std::string msg = shape_error_of([&] { lin.forward(constant(Tensor(Shape{2, 5}))); });
    CHECK(contains(msg, "Linear"));
    CHECK(contains(msg, "(2, 5)"));
    CHECK_THROWS_AS(Linear(0, 3, rng), std::invalid_argument);
}

// ---------------------------------------------------------------- Embedding

TEST_CASE("nn: Embedding looks up rows and passes a gradient check with repeated ids") {
    tape().clear();
    Rng rng(5);
    Embedding emb(6, 4, rng);
    REQUIRE(emb.W.shape() == Shape({6, 4}));
    // ids: (2, 3); id 2 three times, id 0 twice, ids 3, 4 and 5 never (their gradient rows must stay 0).
    const IndexTensor ids = IndexTensor::from(Shape{2, 3}, {2, 0, 2, 1, 2, 0});
    Var y = emb.forward(ids);
    REQUIRE(y.shape() == Shape({2, 3, 4}));
    for (int64_t n = 0; n < ids.numel(); ++n)
        for (int d = 0; d < 4; ++d) CHECK(y.value()[n * 4 + d] == emb.W.value()[ids[n] * 4 + d]);
    tape().clear();

    check_layer("Embedding", emb, {}, [&](const std::vector<Var>&) { return emb.forward(ids); });

    // Repeated ids accumulate: with loss = Σ y, row i of dW is (number of times i occurs) everywhere.
    emb.zero_grad();
    backward(sum(emb.forward(ids)));
    const std::vector<int> occurrences = {2, 1, 3, 0, 0, 0};
    for (int i = 0; i < 6; ++i)
        for (int d = 0; d < 4; ++d) CHECK(emb.W.grad()[i * 4 + d] == occurrences[i]);
    tape().clear();

    CHECK_THROWS_AS(emb.forward(IndexTensor::from(Shape{1}, {6})), std::out_of_range);
}

// ---------------------------------------------------------------- optimizers

TEST_CASE("nn: SGD steps by hand, without and with momentum") {
    Var p = parameter(Tensor::from(Shape{2}, {1, -2}), "p");
    p.grad() = Tensor::from(Shape{2}, {0.5, -1});
    SGD sgd({p}, 0.1);
    sgd.step();  // θ ← θ - η g = [1 - 0.05, -2 + 0.1]
    CHECK(p.value()[0] == doctest::Approx(0.95));
    CHECK(p.value()[1] == doctest::Approx(-1.9));
    CHECK(sgd.steps() == 1);
    sgd.zero_grad();
    CHECK(p.grad()[0] == 0);
    CHECK(p.grad()[1] == 0);

    Var q = parameter(Tensor::from(Shape{2}, {1, -2}), "q");
    SGD heavy({q}, 0.1, 0.9);
    q.grad() = Tensor::from(Shape{2}, {0.5, -1});
    heavy.step();  // v = g = [0.5, -1];  θ = [0.95, -1.9]
    CHECK(q.value()[0] == doctest::Approx(0.95));
    CHECK(q.value()[1] == doctest::Approx(-1.9));
    q.grad() = Tensor::from(Shape{2}, {0.25, 2});
    heavy.step();  // v = 0.9 [0.5, -1] + [0.25, 2] = [0.7, 1.1];  θ = [0.95 - 0.07, -1.9 - 0.11]
    CHECK(q.value()[0] == doctest::Approx(0.88));
    CHECK(q.value()[1] == doctest::Approx(-2.01));
}

TEST_CASE("nn: Adam's first two steps by hand, with bias correction") {
    Var p = parameter(Tensor::from(Shape{2}, {1, -2}), "p");
    Adam adam({p}, 0.1);  // β₁ = 0.9, β₂ = 0.999, ε = 1e-8
    CHECK(adam.lr() == doctest::Approx(0.1));

    // Step 1, g = [0.5, -1]: m = 0.1 g, v = 0.001 g²; m̂ = m / 0.1 = g, v̂ = v / 0.001 = g², so the update is
    // η g / (|g| + ε) = η sign(g) (to within η ε / |g| = 2e-9): θ = [1 - 0.1, -2 + 0.1].
    p.grad() = Tensor::from(Shape{2}, {0.5, -1});
    adam.step();
    CHECK(p.value()[0] == doctest::Approx(0.9).epsilon(1e-8));
    CHECK(p.value()[1] == doctest::Approx(-1.9).epsilon(1e-8));

    // Step 2, g = [0.25, 2]. Element 0:
    //   m = 0.9 · 0.05 + 0.1 · 0.25 = 0.07                    m̂ = 0.07 / (1 - 0.9²) = 0.07 / 0.19 = 0.3684211
    //   v = 0.999 · 0.00025 + 0.001 · 0.0625 = 0.00031225     v̂ = v / (1 - 0.999²) = v / 0.001999 = 0.1562031
    //   θ = 0.9 - 0.1 · 0.3684211 / √0.1562031 = 0.9 - 0.0932180 = 0.8067820
    // Element 1:
    //   m = 0.9 · (-0.1) + 0.1 · 2 = 0.11                     m̂ = 0.11 / 0.19 = 0.5789474
    //   v = 0.999 · 0.001 + 0.001 · 4 = 0.004999              v̂ = 0.004999 / 0.001999 = 2.5007504
    //   θ = -1.9 - 0.1 · 0.5789474 / √2.5007504 = -1.9 - 0.0366104 = -1.9366104
    p.grad() = Tensor::from(Shape{2}, {0.25, 2});
    adam.step();
    CHECK(p.value()[0] == doctest::Approx(0.8067820405).epsilon(1e-9));
    CHECK(p.value()[1] == doctest::Approx(-1.9366103535).epsilon(1e-9));
    CHECK(adam.steps() == 2);

    adam.set_lr(0.01);
    CHECK(adam.lr() == doctest::Approx(0.01));
    CHECK_THROWS_AS(adam.set_lr(-1), std::invalid_argument);
}

TEST_CASE("nn: optimizers skip parameters without a gradient and refuse bad arguments") {
    Var used = parameter(Tensor::from(Shape{1}, {1}), "used");
    Var unused = parameter(Tensor::from(Shape{1}, {5}), "unused");  // never given a gradient
    Adam adam({used, unused}, 0.1);
    SGD sgd({used, unused}, 0.1);
    used.grad() = Tensor::from(Shape{1}, {1});
    adam.step();
    sgd.step();
    CHECK_FALSE(unused.has_grad());
    CHECK(unused.value()[0] == 5);
    CHECK(used.value()[0] == doctest::Approx(1 - 0.1 - 0.1));

    CHECK_THROWS_AS(SGD({used, used}, 0.1), std::invalid_argument);                   // would step twice
    CHECK_THROWS_AS(SGD({constant(Tensor(Shape{1}))}, 0.1), std::invalid_argument);    // not trainable
    CHECK_THROWS_AS(SGD({used}, 0.1, 1.0), std::invalid_argument);
    CHECK_THROWS_AS(Adam({used}, 0.1, 1.0), std::invalid_argument);
}

TEST_CASE("nn: Adam fits y = 2x + 1 with a Linear(1, 1)") {
    tape().clear();
    Rng rng(42);
    Linear lin(1, 1, rng);
    // 16 points on [-1, 1]: x: (16, 1), y: (16, 1)
    Tensor xs(Shape{16, 1}), ys(Shape{16, 1});
    for (int i = 0; i < 16; ++i) {
        xs[i] = -1 + 2.0 * i / 15;
        ys[i] = 2 * xs[i] + 1;
    }
    Var x = constant(xs), y = constant(ys);
    Adam adam(lin.parameters(), 0.05);
    Real loss = 0;
    for (int step = 0; step < 1000; ++step) {
        adam.zero_grad();
        Var err = lin.forward(x) - y;
        Var l = mean(err * err);  // mean squared error
        backward(l);
        adam.step();
        loss = l.item();
        tape().clear();
    }
    INFO("final loss " << loss << ", W " << lin.W.value()[0] << ", b " << lin.b.value()[0]);
    CHECK(loss < 1e-4);
    CHECK(lin.W.value()[0] == doctest::Approx(2).epsilon(1e-2));
    CHECK(lin.b.value()[0] == doctest::Approx(1).epsilon(1e-2));
}

// ---------------------------------------------------------------- clipping

TEST_CASE("nn: clip_grad_norm scales to max_norm and returns the norm before clipping") {
    Var a = parameter(Tensor(Shape{2}), "a"), b = parameter(Tensor(Shape{1}), "b");
    Var none = parameter(Tensor(Shape{3}), "none");  // no gradient: ignored
    a.grad() = Tensor::from(Shape{2}, {3, 0});
    b.grad() = Tensor::from(Shape{1}, {4});  // global norm √(9 + 16) = 5

    // Below the threshold: nothing changes.
    CHECK(clip_grad_norm({a, b, none}, 10) == doctest::Approx(5));
    CHECK(a.grad()[0] == 3);
    CHECK(b.grad()[0] == 4);

    // Above it: every gradient times 1 / 5, so the new norm is 1 and the direction is kept.
    CHECK(clip_grad_norm({a, b, none}, 1) == doctest::Approx(5));
    CHECK(a.grad()[0] == doctest::Approx(0.6));
    CHECK(a.grad()[1] == 0);
    CHECK(b.grad()[0] == doctest::Approx(0.8));
    CHECK_FALSE(none.has_grad());
    CHECK(clip_grad_norm({a, b}, 1) == doctest::Approx(1));
}

TEST_CASE("nn: clip_grad_norm throws on a NaN or infinite gradient") {
    Var a = parameter(Tensor(Shape{2}), "a"), b = parameter(Tensor(Shape{2}), "bad");
    a.grad() = Tensor::from(Shape{2}, {1, 2});
    b.grad() = Tensor::from(Shape{2}, {0, std::numeric_limits<Real>::quiet_NaN()});
    const std::string msg = error_of([&] { clip_grad_norm({a, b}, 1); });
    CHECK(contains(msg, "not finite"));
    CHECK(contains(msg, "bad"));
    CHECK_THROWS_AS(clip_grad_norm({a, b}, 1), std::runtime_error);
    CHECK(a.grad()[0] == 1);  // nothing was scaled

    b.grad()[1] = std::numeric_limits<Real>::infinity();
    CHECK(contains(error_of([&] { clip_grad_norm({a, b}, 1); }), "not finite"));
}

// ---------------------------------------------------------------- checkpoints and summary

TEST_CASE("nn: save then load gives identical parameters and identical outputs") {
    tape().clear();
    const TempDir dir("nn_roundtrip");
    const std::string path = dir.file("model.npz");
    Rng rng1(1), rng2(2);
    TinyModel saved(rng1), loaded(rng2);  // different seeds: different weights before loading
    const IndexTensor ids = IndexTensor::from(Shape{2, 3}, {0, 1, 2, 3, 4, 0});
    REQUIRE_FALSE(same_values(values_of(saved), values_of(loaded)));

    save(saved, path);
    load(loaded, path);
    CHECK(same_values(values_of(saved), values_of(loaded)));  // bit for bit
    NoGrad no_grad;
    CHECK(saved.forward(ids).value().data == loaded.forward(ids).value().data);

    // The file holds exactly the parameter paths.
    const auto arrays = load_npz(path);
    std::vector<std::string> names;
    for (const auto& [name, t] : arrays) names.push_back(name);
    CHECK(names == std::vector<std::string>{"embed.W", "proj.W", "proj.b", "head.W"});
}

TEST_CASE("nn: load refuses a file that does not fit and leaves the module unchanged") {
    const TempDir dir("nn_mismatch");
    const std::string path = dir.file("model.npz");
    Rng rng(3);

    SUBCASE("a wrong shape") {
        TinyModel other(rng, 5);  // hidden 5: proj.W is (3, 5) in the file, (3, 4) in the model
        save(other, path);
        TinyModel m(rng);
        expect_refused(m, path, {"proj.W", "(3, 4)", "(3, 5)"});  // embed.W fitted, but was not copied either
    }
    SUBCASE("a missing name") {
        TinyModel m(rng);
        Tensor embed = m.embed.W.value(), projW = m.proj.W.value(), headW = m.head.W.value();
        save_npz(path, {{"embed.W", &embed}, {"proj.W", &projW}, {"head.W", &headW}});  // no proj.b
        for (Var p : m.parameters()) p.value().fill(7);  // so a partial copy would show
        expect_refused(m, path, {"proj.b", "missing"});
    }
    SUBCASE("an extra name") {
        TinyModel m(rng);
        save(m, path);
        Tensor embed = m.embed.W.value(), projW = m.proj.W.value(), projb = m.proj.b.value(),
               headW = m.head.W.value(), extra(Shape{2, 2});
        save_npz(path, {{"embed.W", &embed}, {"proj.W", &projW}, {"proj.b", &projb}, {"head.W", &headW},
                        {"head.b", &extra}});
        for (Var p : m.parameters()) p.value().fill(7);
        expect_refused(m, path, {"head.b"});
    }
    SUBCASE("no file at all") {
        TinyModel m(rng);
        const auto before = values_of(m);
        CHECK_THROWS_AS(load(m, path + ".absent"), std::runtime_error);
        CHECK(same_values(before, values_of(m)));
    }
}

TEST_CASE("nn: load refuses a checkpoint holding NaN or infinity, naming the array and the element") {
    const TempDir dir("nn_nonfinite");
    const std::string path = dir.file("diverged.npz");
    Rng rng(5);
    for (const Real bad : {std::numeric_limits<Real>::quiet_NaN(), std::numeric_limits<Real>::infinity(),
                           -std::numeric_limits<Real>::infinity()}) {
        const std::string shown = fmt::format("{}", bad);
        CAPTURE(shown);
        TinyModel diverged(rng);
        diverged.proj.W.value()[6] = bad;  // proj.W is (3, 4): element 6 is [1, 2]
        diverged.proj.W.value()[9] = bad;  // a later one is not the one named
        save(diverged, path);
        TinyModel m(rng);
        expect_refused(m, path, {"parameter 'proj.W'", "holds " + shown + " at [1, 2] (element 6 of 12)"});
    }
}

TEST_CASE("nn: summary lists every parameter and the total") {
    Rng rng(4);
    TinyModel m(rng);
    const std::string s = summary(m);
    INFO(s);
    for (const char* name : {"embed.W", "proj.W", "proj.b", "head.W"}) CHECK(contains(s, name));
    CHECK(contains(s, "(5, 3)"));
    CHECK(contains(s, "(3, 4)"));
    CHECK(contains(s, "total"));
    // 5·3 + 3·4 + 4 + 4·2 = 15 + 12 + 4 + 8 = 39
    CHECK(m.num_parameters() == 39);
    CHECK(contains(s, "39"));
}
