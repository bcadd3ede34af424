// tests/test_grad_norms.cpp — gradient norms per parameter and per layer (nn/grad_norms.h), held to values
// worked out by hand on a tiny module tree, and to clip_grad_norm's global norm on a real LSTM stack.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "autodiff/ops.h"
#include "nn/grad_norms.h"
#include "nn/optim.h"
#include "nn/stacked_lstm.h"

using namespace s2a;

namespace {

// A "layer" with two parameters: W (2) and b (1).
struct Leaf : Module {
    Leaf() {
        W = add_parameter("W", Tensor(Shape{2}));
        b = add_parameter("b", Tensor(Shape{1}));
    }
    Var W, b;
};

// stack.layer0, stack.layer1, stack.layer10 and a head that belongs to no layer:
//   stack.layer0.W  stack.layer0.b  stack.layer1.W  …  stack.layer10.b  head.W  head.b
struct Tree : Module {
    Tree() {
        for (int i : {0, 1, 10}) stack.add(i);
        add_child("stack", stack);
        add_child("head", head);
    }
    struct Stack : Module {
        void add(int i) {
            leaves.push_back(std::make_unique<Leaf>());
            add_child("layer" + std::to_string(i), *leaves.back());
        }
        std::vector<std::unique_ptr<Leaf>> leaves;
    } stack;
    Leaf head;
};

void set_grad(const Var& p, const std::vector<Real>& g) { p.grad() = Tensor::from(p.shape(), g); }

}  // namespace

TEST_CASE("grad norms: one per parameter, worked out by hand") {
    Tree tree;
    set_grad(tree.stack.leaves[0]->W, {3, 4});   // ‖(3, 4)‖ = 5
    set_grad(tree.stack.leaves[0]->b, {-12});    // ‖(-12)‖ = 12
    set_grad(tree.head.W, {1, 1});               // √2
    // stack.layer1, stack.layer10 and head.b never get a gradient: norm 0.
    const std::vector<GradNorm> norms = grad_norms(tree);
    REQUIRE(norms.size() == 8);
    CHECK(norms[0].name == "stack.layer0.W");
    CHECK(norms[0].norm == doctest::Approx(5));
    CHECK(norms[1].name == "stack.layer0.b");
    CHECK(norms[1].norm == doctest::Approx(12));
    CHECK(norms[2].norm == 0);
    CHECK(norms[6].name == "head.W");
    CHECK(norms[6].norm == doctest::Approx(std::sqrt(2.0)));
    CHECK(norms[7].norm == 0);
}

TEST_CASE("grad norms: a real backward pass") {
    // loss = Σ 3 ⊙ W over a (2) parameter: ∂loss/∂W = (3, 3), whose norm is 3√2.
    Leaf leaf;
    leaf.W.value() = Tensor::from(Shape{2}, {0.5, -1});
    backward(sum(scale(leaf.W, 3)));
    tape().clear();
    const std::vector<GradNorm> norms = grad_norms(leaf);
    CHECK(norms[0].norm == doctest::Approx(3 * std::sqrt(2.0)));
    CHECK(norms[1].norm == 0);  // b took no part in the loss
}

TEST_CASE("grad norms: grouped by layer") {
    Tree tree;
    set_grad(tree.stack.leaves[0]->W, {3, 4});
    set_grad(tree.stack.leaves[0]->b, {12});   // layer0: √(3² + 4² + 12²) = 13
    set_grad(tree.stack.leaves[2]->W, {0, 2});  // layer10: 2 (and not mixed into layer1)
    set_grad(tree.head.W, {100, 100});          // not a layer of "stack.layer": left out
    const std::vector<GradNorm> layers = layer_grad_norms(tree, "stack.layer");
    REQUIRE(layers.size() == 3);
    CHECK(layers[0].name == "stack.layer0");
    CHECK(layers[0].norm == doctest::Approx(13));
    CHECK(layers[1].name == "stack.layer1");
    CHECK(layers[1].norm == 0);
    CHECK(layers[2].name == "stack.layer10");  // indices in numeric order, not text order
    CHECK(layers[2].norm == doctest::Approx(2));
    CHECK_THROWS_AS(layer_grad_norms(tree, "stack.layers"), std::invalid_argument);
    CHECK_THROWS_AS(layer_grad_norms(tree, "head"), std::invalid_argument);  // "head.W": no index after the prefix
}

TEST_CASE("grad norms: the layers of an LSTM stack add up to clip_grad_norm's global norm") {
    for (bool residual : {false, true}) {
        Rng rng(21);
        StackedLSTM lstm(3, 5, 4, residual, 0, rng);
        const Var x = constant(randn(Shape{2, 6, 3}, rng));            // x: (B, T, D)
        const Var hs = lstm.forward(x, {}).first;                      // hs: (B, T, H)
        backward(sum(hs * constant(randn(hs.shape(), rng))));          // a random projection of every output
        tape().clear();
        const std::vector<GradNorm> layers = layer_grad_norms(lstm, "layer");
        REQUIRE(layers.size() == 4);
        double total = 0;
        for (const GradNorm& g : layers) {
            CHECK(g.norm > 0);
            total += g.norm * g.norm;
        }
        INFO("residual ", residual);
        CHECK(std::sqrt(total) == doctest::Approx(clip_grad_norm(lstm.parameters(), Real(1e30))).epsilon(1e-12));
    }
}
