// tests/test_tape.cpp — the tape itself: order, accumulation, no-grad, clear, printing, finiteness checks.
#include <doctest/doctest.h>

#include <cmath>

#include "autodiff/ops.h"
#include "autodiff/profile.h"

using namespace s2a;

TEST_CASE("tape: records ops in order and prints them") {
    tape().clear();
    Var x = parameter(Tensor::from(Shape{1, 2}, {1, 2}), "x");
    Var W = parameter(Tensor::from(Shape{2, 2}, {1, 0, 0, 1}), "W");
    Var y = tanh(matmul(x, W));
    Var loss = sum(y);
    REQUIRE(tape().size() == 3);
    CHECK(std::string(tape().nodes()[0]->op) == "matmul");
    CHECK(std::string(tape().nodes()[2]->op) == "sum");
    const std::string s = tape().str();
    CHECK(s.find("matmul") != std::string::npos);
    CHECK(s.find("<- x, W") != std::string::npos);
    CHECK(s.find("<- #0") != std::string::npos);
    CHECK(s.find("(1, 2)") != std::string::npos);
    tape().clear();
}

TEST_CASE("tape: a tensor used twice gets both gradients") {
    tape().clear();
    Var x = parameter(Tensor::from(Shape{3}, {1, -2, 3}), "x");
    Var y = x * x + scale(x, 3);   // dy/dx = 2x + 3
    backward(sum(y));
    CHECK(x.grad()[0] == doctest::Approx(5));
    CHECK(x.grad()[1] == doctest::Approx(-1));
    CHECK(x.grad()[2] == doctest::Approx(9));
    // A second backward without zero_grad accumulates; zero_grad resets.
    tape().clear();
    backward(sum(x));
    CHECK(x.grad()[0] == doctest::Approx(6));
    zero_grad({x});
    CHECK(x.grad()[0] == 0);
    tape().clear();
}

TEST_CASE("tape: constants get no gradient and record nothing") {
    tape().clear();
    Var c = constant(Tensor::from(Shape{2}, {1, 2}));
    Var y = tanh(c);
    CHECK(tape().size() == 0);
    CHECK_FALSE(y.requires_grad());
    CHECK_THROWS_AS(backward(sum(y)), std::runtime_error);  // the loss depends on no parameter
}

TEST_CASE("tape: no-grad scope records nothing and restores") {
    tape().clear();
    Var x = parameter(Tensor::from(Shape{2}, {1, 2}), "x");
    {
        NoGrad no_grad;
        Var y = tanh(x * x);
        CHECK(tape().size() == 0);
        CHECK_FALSE(y.requires_grad());
        CHECK(y.value()[0] == doctest::Approx(std::tanh(1.0)));
        {
            NoGrad nested;
        }
        CHECK_FALSE(grad_enabled());  // the inner scope restored "off", not "on"
    }
    CHECK(grad_enabled());
    Var z = tanh(x);
    CHECK(tape().size() == 1);
    tape().clear();
}

TEST_CASE("tape: clear releases what the step made") {
    tape().clear();
    Var W = parameter(Tensor(Shape{64, 64}, 0.01), "W");
    std::weak_ptr<Node> hidden;
    {
        Var x = constant(Tensor(Shape{8, 64}, 1));
        Var h = tanh(matmul(x, W));
        hidden = h.shared();
        backward(sum(h));
    }
    CHECK_FALSE(hidden.expired());  // the tape still holds the intermediate node
    tape().clear();
    CHECK(hidden.expired());        // gone with clear()
    CHECK(W.has_grad());            // parameters survive, with their gradient
    // A handle kept by the caller keeps its value but lets go of its inputs.
    Var loss = sum(tanh(W));
    std::weak_ptr<Node> inner = tape().nodes()[0];
    tape().clear();
    CHECK(inner.expired());
    CHECK(std::isfinite(loss.item()));
}

TEST_CASE("tape: backward releases what no handle holds, and keeps what one does") {
    tape().clear();
    Var W = parameter(Tensor(Shape{2, 2}, 0.5), "W");
    Var kept = tanh(W);                   // the caller holds this one
    std::weak_ptr<Node> dropped = sigmoid(kept).shared();  // and not this one: only the tape does
    Var loss = sum(Var(dropped.lock()));
    REQUIRE(!dropped.lock()->value.empty());
    backward(loss);
    CHECK(dropped.lock()->value.empty());  // its backward ran and nobody else can read it: gone
    CHECK(dropped.lock()->grad.empty());
    CHECK(dropped.lock()->inputs.empty());
    CHECK(kept.value().numel() == 4);      // a handle's node keeps its value and its gradient
    CHECK(kept.has_grad());
    CHECK(std::isfinite(loss.item()));
    CHECK(W.has_grad());
    tape().clear();
}

TEST_CASE("tape: a backward reuses its gradient in place only when no handle outside the tape can read it") {
    // linear_relu masks d loss/d y in place when y's node is the tape's alone (Node::grad_private); a held
    // y must keep the gradient the loss gave it. The parameters' gradients are the same bits either way.
    Rng rng(3);
    const Var x = parameter(randn(Shape{5, 3}, rng), "x"), W = parameter(randn(Shape{3, 4}, rng), "W"),
              b = parameter(randn(Shape{4}, rng), "b");
    const Var R = constant(randn(Shape{5, 4}, rng));  // d loss/d y = R, of both signs
    int64_t node_bytes[2] = {};  // tensor bytes linear_relu's node allocated, forward and backward: held, alone
    auto grads = [&](bool hold) {
        tape().clear();
        for (const Var& p : {x, W, b}) p.grad().fill(0);  // made here: the node's backward allocates only its mask
        Profile profile;
        Var y = linear_relu(x, W, b);
        const Var loss = sum(y * R);
        if (!hold) y = Var();
        backward(loss);
        profile.stop();
        node_bytes[hold ? 0 : 1] = profile.op("linear_relu").bytes;
        if (hold) CHECK(y.grad().data == R.value().data);  // unmasked: what the loss gave y
        std::vector<Tensor> g = {x.grad(), W.grad(), b.grad()};
        tape().clear();
        return g;
    };
    const std::vector<Tensor> held = grads(true), alone = grads(false);
    for (size_t i = 0; i < held.size(); ++i) CHECK(held[i].data == alone[i].data);
    // Alone, the mask was written over d loss/d y: no (5, 4) buffer of its own.
    CHECK(node_bytes[0] - node_bytes[1] == int64_t(5 * 4 * sizeof(Real)));
}

TEST_CASE("tape: recompute_in_backward lets a value go in forward and backward makes it again, the same bits") {
    // A layer norm's output read by a linear layer: dropped once the linear layer has run, made again from
    // the saved means and rstd before the linear layer's backward reads it. Every gradient is the same bits
    // as when it was kept, and a handle held outside the tape finds the value again after backward.
    Rng rng(5);
    const Var x = parameter(randn(Shape{9, 6}, rng), "x"), g = parameter(randn(Shape{6}, rng), "g"),
              b = parameter(randn(Shape{6}, rng), "b"), W = parameter(randn(Shape{6, 3}, rng), "W"),
              c = parameter(randn(Shape{3}, rng), "c");
    const Var R = constant(randn(Shape{9, 3}, rng));
    Tensor value_kept;
    auto grads = [&](bool drop) {
        tape().clear();
        zero_grad({x, g, b, W, c});
        const Var y = layer_norm(x, g, b, 1e-5);  // (9, 6)
        const Var z = linear(y, W, c);            // (9, 3)
        if (drop) {
            const int64_t before = tensor_bytes_in_use();
            recompute_in_backward(y);
            CHECK(y.value().empty());
            CHECK(y.shape() == Shape{9, 6});
            CHECK(before - tensor_bytes_in_use() == int64_t(9 * 6 * sizeof(Real)));
        } else {
            value_kept = y.value();
        }
        backward(sum(z * R));
        if (drop) CHECK(y.value().data == value_kept.data);  // held here: made again, the same bits
        std::vector<Tensor> out = {x.grad(), g.grad(), b.grad(), W.grad(), c.grad()};
        tape().clear();
        return out;
    };
    const std::vector<Tensor> kept = grads(false), dropped = grads(true);
    for (size_t i = 0; i < kept.size(); ++i) CHECK(kept[i].data == dropped[i].data);

    // Nothing to let go: a leaf (no way to make it again), and any op under NoGrad (nothing on the tape).
    recompute_in_backward(x);
    CHECK(x.value().numel() == 9 * 6);
    {
        NoGrad no_grad;
        const Var y = layer_norm(x, g, b, 1e-5);
        recompute_in_backward(y);
        CHECK(y.value().numel() == 9 * 6);
    }
    // A forward pass with no backward: clear() gives a held value back before the tape forgets how.
    const Var y = layer_norm(x, g, b, 1e-5);
    recompute_in_backward(y);
    tape().clear();
    CHECK(y.value().data == value_kept.data);
}

TEST_CASE("tape: a value let go is made again from values that were let go too") {
    // A look-up, a scaling and a sum, as a Transformer embeds its tokens: the first two let go once the sum
    // has read them. The sum's backward reads the scaled tokens; making them again needs the look-up first.
    Rng rng(8);
    const Var E = parameter(randn(Shape{7, 4}, rng), "E"), P = parameter(randn(Shape{3, 4}, rng), "P");
    const IndexTensor ids = IndexTensor::from(Shape{2, 3}, {1, 4, 6, 0, 4, 2});
    const Var R = constant(randn(Shape{2, 3, 4}, rng));
    auto grads = [&](bool drop) {
        tape().clear();
        zero_grad({E, P});
        const Var looked_up = embedding(E, ids), tokens = scale(looked_up, 2);  // (2, 3, 4)
        const Var x = tokens + P;                                               // (2, 3, 4)
        if (drop)
            for (const Var& v : {looked_up, tokens}) {
                recompute_in_backward(v);
                CHECK(v.value().empty());
            }
        backward(sum(x * R));
        std::vector<Tensor> out = {E.grad(), P.grad()};
        tape().clear();
        return out;
    };
    const std::vector<Tensor> kept = grads(false), dropped = grads(true);
    for (size_t i = 0; i < kept.size(); ++i) CHECK(kept[i].data == dropped[i].data);
}

TEST_CASE("tape: backward needs a single-number loss") {
    tape().clear();
    Var x = parameter(Tensor(Shape{2, 2}, 1), "x");
    CHECK_THROWS_AS(backward(tanh(x)), ShapeError);
    tape().clear();
}

TEST_CASE("tape: check_finite names the op that made a NaN") {
    tape().clear();
    set_check_finite(true);
    Var x = parameter(Tensor::from(Shape{2}, {1, -1}), "x");
    try {
        log(x);
        FAIL("expected an exception");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("log") != std::string::npos);
    }
    set_check_finite(false);
    tape().clear();
}
