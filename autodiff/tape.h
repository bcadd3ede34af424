// autodiff/tape.h — reverse-mode automatic differentiation on a flat tape.
//
// The whole idea in four lines:
//   1. every op computes its output Tensor and appends one Node to the tape: the value, the inputs, and a
//      backward function that knows the op's derivative;
//   2. the tape is therefore already in topological order (an input is always recorded before its users);
//   3. backward(loss) sets d loss/d loss = 1 and walks the tape once, from the end to the start, calling
//      each node's backward, which ADDS (+=) its contribution into its inputs' gradients;
//   4. a tensor used twice simply receives two contributions: that is the chain rule's sum over paths.
//
// A Var is a cheap handle (a shared pointer) to a Node. Parameters are Vars that live outside the tape,
// owned by the model; everything else an op makes lives on the tape until clear() releases it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autodiff/tensor.h"

namespace s2a {

struct Node;
// Called once during backward with the op's output node, whose grad is complete by then.
using BackwardFn = std::function<void(Node& out)>;

struct Node {
    Tensor value;                               // what forward computed
    Tensor grad;                                // d loss / d value; allocated (zeros) on first use
    bool requires_grad = false;                 // does the loss depend on something trainable through here?
    const char* op = "leaf";                    // op name, for printing the tape and for error messages
    std::string name;                           // parameters and named inputs; empty otherwise
    int tape_index = -1;                        // position on the tape, -1 for leaves (inputs, parameters)
    bool grad_private = false;                  // set by backward before this node's: no handle outside the
                                                // tape can read grad afterwards, so the backward may reuse it
    std::vector<std::shared_ptr<Node>> inputs;  // what it was made from (kept for printing and lifetime)
    BackwardFn backward;                        // empty for leaves
    // Set by an op whose value is cheap to compute again from what its node keeps anyway (layer norm, the
    // attention's weighted sum of values, the embedding, the pointwise ops): the same bits again. It lets
    // recompute_in_backward drop the value.
    std::function<Tensor()> recompute;

    Tensor& grad_ref();  // the gradient buffer, zero-filled on first access
};

class Var {
  public:
    Var() = default;
    explicit Var(std::shared_ptr<Node> n) : node_(std::move(n)) {}

    Tensor& value() const { return node_->value; }        // a handle: const Var, mutable node (like a pointer)
    Tensor& grad() const { return node_->grad_ref(); }    // zero-filled on first access
    bool has_grad() const { return !node_->grad.empty(); }
    const Shape& shape() const { return node_->value.shape; }
    int dim(int i) const { return node_->value.shape[i]; }
    int ndim() const { return node_->value.shape.ndim; }
    int64_t numel() const { return node_->value.numel(); }
    Real item() const { return node_->value.item(); }
    bool requires_grad() const { return node_->requires_grad; }
    const std::string& name() const { return node_->name; }
    bool defined() const { return node_ != nullptr; }
    Node* node() const { return node_.get(); }
    const std::shared_ptr<Node>& shared() const { return node_; }

  private:
    std::shared_ptr<Node> node_;
};

// Where a backward that writes ALL of x's gradient in one pass puts it. beta 1: a gradient has already reached x,
// add to it. beta 0: none has, and ptr is a fresh buffer with nothing in it, to be written (a product with beta
// 0; a loop storing 0 + term, the sum zeros would have given, bit for bit). That saves the pass over memory
// that zero-filling costs, and reading the zeros back: the largest gradients of a step are written once.
// ptr is null when x needs no gradient.
struct GradOut {
    Real* ptr;
    Real beta;
};
GradOut grad_out(const Var& x);

// dx[i] += term(i) for every element of x, by grad_out: the first gradient to reach x is stored, not added.
// Large tensors are shared among the cores (parallel_ranges): term(i) must only read.
template <class Term>
void add_to_grad(const Var& x, Term term) {
    const GradOut g = grad_out(x);
    if (!g.ptr) return;
    parallel_ranges(x.numel(), kPointwiseGrain, [&](int64_t begin, int64_t end) {
        if (g.beta == 0)
            for (int64_t i = begin; i < end; ++i) g.ptr[i] = Real(0) + term(i);  // 0 + t: the bits of adding to zeros (-0 → +0)
        else
            for (int64_t i = begin; i < end; ++i) g.ptr[i] += term(i);
    });
}

// Recomputation instead of memory (what PyTorch calls activation checkpointing), for the cheap ops that allow
// it (Node::recompute): lets go of x's storage now, while the forward pass goes on, and computes it again just
// before the first backward that reads it. For a value none of whose readers in the forward pass is still to
// come: the layers call it on the input of a sublayer that has run (nn/transformer.cpp), the Transformer on its
// embedded tokens and its encoder's output (models/transformer_seq2seq.cpp). Such a value then costs no memory
// between its last reader in forward and the first in backward. Nothing changes for a node that cannot be
// recomputed or is not on the tape (no gradient needed, or under NoGrad).
void recompute_in_backward(const Var& x);

// An op's output that can be made again by compute (its forward, the same bits): sets the node's recompute
// when it is on the tape, and returns it.
template <class F>
Var recomputable(F compute, Var out) {
    if (out.node()->tape_index >= 0) out.node()->recompute = std::move(compute);
    return out;
}

// Leaves. A constant never gets a gradient; a parameter (or any tensor you want d loss/d x for) does.
Var constant(Tensor value, std::string name = "");
Var parameter(Tensor value, std::string name = "");

// The one door through which every op enters the tape. When gradients are enabled and some input requires
// one, the output node keeps its inputs and backward and is appended; otherwise it is a plain constant and
// nothing is recorded (so evaluation and decoding cost no memory for backward).
Var record(const char* op, Tensor value, std::vector<Var> inputs, BackwardFn backward);

class Tape {
  public:
    void append(const std::shared_ptr<Node>& n);
    // Seeds d loss/d loss = 1 and runs every recorded backward once, last node first. A node whose backward
    // has run lets go of what it kept for it, and of its value and gradient too unless a Var outside the tape
    // still holds it: the nodes stay on the tape until clear(), but the step's memory shrinks as it goes.
    void backward(const Var& loss);
    // Releases every node the step made (values, grads, saved tensors). Parameters survive: the model owns them.
    void clear();
    size_t size() const { return nodes_.size(); }
    const std::vector<std::shared_ptr<Node>>& nodes() const { return nodes_; }
    // One line per node: index, op, output shape, inputs (#k for tape nodes, names for leaves).
    std::string str() const;

  private:
    std::vector<std::shared_ptr<Node>> nodes_;
};

Tape& tape();  // the tape ops record onto (one per thread)
inline void backward(const Var& loss) { tape().backward(loss); }

// Sets the gradients of these variables to zero (before the next step's backward accumulates into them).
void zero_grad(const std::vector<Var>& vars);

// While a NoGrad lives, ops record nothing: for evaluation and decoding.
class NoGrad {
  public:
    NoGrad();
    ~NoGrad();
    NoGrad(const NoGrad&) = delete;
    NoGrad& operator=(const NoGrad&) = delete;

  private:
    bool previous_;
};
bool grad_enabled();

// When on, every op checks its output for NaN/Inf and throws std::runtime_error naming the op, its position
// on the tape, its input shapes and where the bad value came from (the first input that already held one, or
// the op itself from finite inputs), so the first bad node is found rather than a NaN loss many steps
// later. Off by default (it reads every output); train_step turns it on to explain a non-finite loss.
void set_check_finite(bool on);

}  // namespace s2a
