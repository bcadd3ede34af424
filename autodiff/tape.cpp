// autodiff/tape.cpp — recording nodes and running them backwards.
#include "autodiff/tape.h"

#include <fmt/format.h>

#include <cmath>

#include "autodiff/profile.h"

namespace s2a {

namespace {
thread_local Tape g_tape;
thread_local bool g_grad_enabled = true;
thread_local bool g_check_finite = false;
}  // namespace

Tape& tape() { return g_tape; }
bool grad_enabled() { return g_grad_enabled; }
void set_check_finite(bool on) { g_check_finite = on; }

NoGrad::NoGrad() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = previous_; }

Tensor& Node::grad_ref() {
    if (grad.empty() && !value.empty()) grad = Tensor(value.shape);
    grad.shape = value.shape;  // a 0-element value still gets a well-shaped (empty) gradient
    return grad;
}

GradOut grad_out(const Var& x) {
    if (!x.requires_grad()) return {nullptr, 0};
    Node& n = *x.node();
    if (!n.grad.empty() || n.value.empty()) return {n.grad_ref().ptr(), 1};
    n.grad = Tensor::uninitialized(n.value.shape);
    return {n.grad.ptr(), 0};
}

static Var leaf(Tensor value, std::string name, bool requires_grad) {
    auto n = std::make_shared<Node>();
    n->value = std::move(value);
    n->name = std::move(name);
    n->requires_grad = requires_grad;
    return Var(std::move(n));
}

Var constant(Tensor value, std::string name) { return leaf(std::move(value), std::move(name), false); }
Var parameter(Tensor value, std::string name) { return leaf(std::move(value), std::move(name), true); }

// The first NaN or infinity in t, as its flat index; -1 if every value is finite.
static int64_t first_non_finite(const Tensor& t) {
    for (int64_t k = 0; k < t.numel(); ++k)
        if (!std::isfinite(t[k])) return k;
    return -1;
}

// An op's output holds a NaN or an infinity: say which op (and where on the tape it would go), the shapes it
// was given, and where the bad value came from: an input that already held one (a parameter that diverged,
// bad data), or the op itself from finite inputs (exp of a large number, log of 0, a division by 0).
static void check_finite(const char* op, const Tensor& value, const std::vector<Var>& inputs) {
    const int64_t bad = first_non_finite(value);
    if (bad < 0) return;
    std::string shapes;
    for (const Var& in : inputs) shapes += (shapes.empty() ? "" : ", ") + in.shape().str();
    std::string source = "from finite inputs: the op itself overflowed or was undefined here";
    for (size_t i = 0; i < inputs.size(); ++i) {
        const int64_t k = first_non_finite(inputs[i].value());
        if (k < 0) continue;
        const Node& in = *inputs[i].node();
        const std::string what = !in.name.empty() ? fmt::format("'{}'", in.name)
                                 : in.tape_index >= 0 ? fmt::format("#{} {}", in.tape_index, in.op)
                                                      : std::string(in.requires_grad ? "a parameter" : "a constant");
        source = fmt::format("because input {} ({} {}) already held {} at element {}", i + 1, what, in.value.shape.str(),
                             in.value[k], k);
        break;
    }
    throw std::runtime_error(fmt::format("op #{} {} (inputs {}) produced {} at element {} of its output {}, {}", g_tape.size(),
                                         op, shapes, value[bad], bad, value.shape.str(), source));
}

Var record(const char* op, Tensor value, std::vector<Var> inputs, BackwardFn backward) {
    if (g_profile) g_profile->forward_done(op);  // the op's forward has just finished (profile.h)
    if (g_check_finite) check_finite(op, value, inputs);
    auto n = std::make_shared<Node>();
    n->value = std::move(value);
    n->op = op;
    bool needs = false;
    for (const Var& in : inputs) needs = needs || in.requires_grad();
    if (g_grad_enabled && needs) {
        n->requires_grad = true;
        n->backward = std::move(backward);
        n->inputs.reserve(inputs.size());
        for (Var& in : inputs) n->inputs.push_back(in.shared());
        g_tape.append(n);
    }
    return Var(std::move(n));
}

void recompute_in_backward(const Var& x) {
    Node& n = *x.node();
    if (n.recompute && n.tape_index >= 0) n.value.data = Storage();  // the shape stays: the storage goes
}

// Gives a node whose storage recompute_in_backward let go its value again, the same bits as before; first
// the values it is made from, if they were let go too.
static void restore(Node& n) {
    if (!n.recompute || !n.value.empty() || n.value.shape.numel() == 0) return;
    for (const auto& in : n.inputs) restore(*in);
    const double flops = g_work ? g_work->flops : 0;
    n.value = n.recompute();
    if (g_work) g_work->flops = flops;  // the model's FLOPs count each product once: recomputing costs time only
    if (g_profile) g_profile->backward_done(n.op);  // recomputing is part of the op's backward time
}

// The node's users, later on the tape, are done with it (their backward has run, or never will): it lets go of
// its inputs and of what it kept for backward, and of its value and gradient too unless a handle outside the
// tape still holds it (held: the node's only owner is not the tape); such a value let go is made again.
static void release(Node& n, bool held) {
    n.backward = nullptr;
    if (held)
        restore(n);
    else
        n.value = Tensor(), n.grad = Tensor();
    n.inputs.clear();
    n.recompute = nullptr;
}

void Tape::append(const std::shared_ptr<Node>& n) {
    n->tape_index = static_cast<int>(nodes_.size());
    nodes_.push_back(n);
}

void Tape::backward(const Var& loss) {
    if (loss.numel() != 1) shape_error("backward", "the loss must be a single number", {loss.shape()});
    if (!loss.requires_grad()) throw std::runtime_error("backward: the loss does not depend on any parameter (was it computed under NoGrad?)");
    if (g_profile) g_profile->backward_begins();  // the time since the last op is no op's; what forward kept
    loss.grad().fill(1);  // d loss / d loss = 1
    for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
        Node& n = **it;
        if (!n.grad.empty() && n.backward) {  // else the loss does not depend on this node
            n.grad_private = it->use_count() == 1;  // the users' nodes have let go of it (below): only the tape holds it
            restore(n);  // the values it reads, if they were let go
            for (const auto& in : n.inputs) restore(*in);
            n.backward(n);
            if (g_profile) g_profile->backward_done(n.op);
        }
        // Every user of this node came later on the tape and is done: the backward of a step hands memory
        // back as it goes instead of holding every value and gradient to the end.
        release(n, it->use_count() > 1);
    }
    if (g_profile) g_profile->backward_pass();
}

void Tape::clear() {
    // A handle the caller still holds (the loss, say) keeps its value but becomes a plain leaf: its inputs
    // and saved tensors are let go too, so nothing of the step outlives clear().
    // Last node first, as in backward: when a node's turn comes, the tape's later nodes hold it no more.
    for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
        (*it)->tape_index = -1;
        release(**it, it->use_count() > 1);
    }
    nodes_.clear();
    if (g_profile) g_profile->tape_cleared();  // the time since backward (clipping, the optimizer) is no op's
}

std::string Tape::str() const {
    std::string s;
    for (const auto& n : nodes_) {
        std::string ins;
        for (const auto& in : n->inputs) {
            std::string label = in->tape_index >= 0 ? fmt::format("#{}", in->tape_index)
                                : in->name.empty() ? std::string(in->requires_grad ? "param" : "const")
                                                   : in->name;
            ins += (ins.empty() ? "" : ", ") + label;
        }
        s += fmt::format("#{:<3} {:<14} {:<16} <- {}\n", n->tape_index, n->op, n->value.shape.str(), ins);
    }
    return s;
}

void zero_grad(const std::vector<Var>& vars) {
    for (const Var& v : vars)
        if (v.has_grad()) v.grad().fill(0);
}

}  // namespace s2a
