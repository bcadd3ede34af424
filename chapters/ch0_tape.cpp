// chapters/ch0_tape.cpp — Chapter 0: the tape.
//
// Every later chapter trains with one mechanism: ops record themselves on a tape as they run, and
// backward() walks the tape in reverse, applying the chain rule one op at a time. This program shows it:
//   1. a small expression, y = tanh(x·W + b), and the tape it leaves behind;
//   2. backward: the gradients of the loss with respect to W and b;
//   3. a gradient check: the same gradients from central differences, (L(w+h) - L(w-h)) / 2h;
//   4. the tape in a loop: a two-layer network learns to tell two rings of generated 2-D points apart.
//
// It is built in double precision (like the tests) so that step 3 can check gradients to about 1e-6.
// Dimensions: N points, F = 2 features, H hidden units, C = 2 classes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "autodiff/profile.h"
#include "data/points.h"
#include "io/cli.h"

using namespace s2a;

// Two noisy rings of radius 0.5 and 1.0 around the origin: class 0 inside, class 1 outside.
static void make_rings(int n, Rng& rng, Tensor& points, IndexTensor& labels) {
    points = Tensor(Shape{n, 2});  // points: (N, F)
    labels = IndexTensor(Shape{n});
    for (int i = 0; i < n; ++i) {
        const int label = i % 2;
        const double radius = (label ? 1.0 : 0.5) + 0.1 * rng.normal(), angle = rng.uniform(0, 2 * M_PI);
        points[2 * i] = static_cast<Real>(radius * std::cos(angle));
        points[2 * i + 1] = static_cast<Real>(radius * std::sin(angle));
        labels[i] = label;
    }
}

int main(int argc, char** argv) {
    int seed = 0, epochs = 300, hidden = 16;
    double lr = 1.0;
    bool quick = false, profile_training = false;
    std::string data;
    Cli cli("ch0", "Chapter 0: the tape. Records a small expression, runs backward, checks the gradients, "
                   "then fits a two-layer network to two rings of points.");
    cli.option("seed", &seed, "random seed (data and initial weights)").at_least(0);
    cli.option("epochs", &epochs, "full-batch gradient steps for the network").range(1, kMaxEpochs);
    cli.option("hidden", &hidden, "hidden units H").range(1, kMaxWidth);
    cli.option("lr", &lr, "learning rate of plain gradient descent").above(0).at_most(100);
    cli.option("data", &data, "a file of 'x,y,label' lines to fit instead of the generated rings", "FILE");
    cli.flag("quick", &quick, "tiny run (a few epochs), for tests");
    cli.flag("profile", &profile_training, "time every op of the training and print where the time went");
    cli.parse(argc, argv);
    return guarded("ch0", [&] {
    if (quick) epochs = std::min(epochs, 20);
    Rng rng(seed);

    fmt::print("1. A small expression: y = tanh(x·W + b), loss = mean(y²)\n\n");
    Var x = constant(randn(Shape{2, 3}, rng), "x");           // x: (2, 3)
    Var W = parameter(randn(Shape{3, 2}, rng), "W");          // W: (3, 2)
    Var b = parameter(Tensor::from(Shape{2}, {0.1, -0.2}), "b");  // b: (2)
    auto f = [&x](const std::vector<Var>& p) { Var y = tanh(matmul(x, p[0]) + p[1]); return mean(y * y); };
    Var loss = f({W, b});
    fmt::print("The tape, in the order the ops ran (each line: index, op, output shape, inputs):\n{}\n", tape().str());

    fmt::print("2. backward(loss) seeds d loss/d loss = 1 and runs the tape in reverse.\n\n");
    backward(loss);
    fmt::print("loss = {:.6f}\ndloss/dW =\n{}\ndloss/db =\n{}\n\n", loss.item(), W.grad().str(), b.grad().str());

    fmt::print("3. The same gradients from central differences (step 1e-6), element by element:\n");
    tape().clear();
    const GradcheckReport report = gradcheck(f, {W, b});
    fmt::print("{}   → {}\n\n", report.str(), report.pass ? "the tape's gradients are right" : "MISMATCH");

    fmt::print("4. Training: F=2 → H={} (tanh) → C=2, cross-entropy, plain gradient descent, lr {}\n\n", hidden, lr);
    Tensor points;
    IndexTensor labels;
    if (data.empty()) make_rings(quick ? 64 : 400, rng, points, labels);
    else read_points(data, points, labels);
    Var X = constant(points, "X");  // X: (N, F)
    Var W1 = parameter(randn(Shape{2, hidden}, rng, Real(1)), "W1"), b1 = parameter(Tensor(Shape{hidden}), "b1");
    Var W2 = parameter(randn(Shape{hidden, 2}, rng, Real(1 / std::sqrt(hidden))), "W2"), b2 = parameter(Tensor(Shape{2}), "b2");
    const std::vector<Var> params = {W1, b1, W2, b2};
    double first_loss = 0, last_loss = 0;
    std::optional<Profile> profile;  // --profile: every op of the training timed and counted (autodiff/profile.h)
    if (profile_training) profile.emplace();
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        Var h = tanh(matmul(X, W1) + b1);   // h: (N, H)
        Var logits = matmul(h, W2) + b2;    // logits: (N, C)
        Var l = cross_entropy(logits, labels);
        zero_grad(params);
        backward(l);
        for (const Var& p : params)         // w ← w - lr · dL/dw
            for (int64_t i = 0; i < p.numel(); ++i) p.value()[i] -= static_cast<Real>(lr) * p.grad()[i];
        tape().clear();                      // release this step's nodes
        last_loss = l.item();
        if (!std::isfinite(last_loss))  // from here on every step would only spread the nan or infinity
            throw std::runtime_error(fmt::format("epoch {}: the loss is {}; try a smaller --lr", epoch, last_loss));
        if (epoch == 1) first_loss = last_loss;
        if (epoch == 1 || epoch % std::max(1, epochs / 10) == 0) fmt::print("  epoch {:>4}  loss {:.4f}\n", epoch, last_loss);
    }
    if (profile) {
        profile->stop();
        fmt::print("\nWhere the training's time went, op by op:\n{}", profile->report());
    }
    NoGrad no_grad;  // evaluation: nothing recorded
    const Tensor logits = (matmul(tanh(matmul(X, W1) + b1), W2) + b2).value();
    int correct = 0;
    for (int i = 0; i < labels.numel(); ++i) correct += (logits[2 * i + 1] > logits[2 * i]) == (labels[i] == 1);
    fmt::print("\nloss {:.4f} → {:.4f}; training accuracy {:.1f}% on {} points\n", first_loss, last_loss,
               100.0 * correct / labels.numel(), labels.numel());
    return report.pass ? 0 : 1;
    });
}
