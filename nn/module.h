// nn/module.h — Module: a layer or a model, owning named parameters and child modules.
//
// A model is a tree of modules; each registers its parameters and children by name, so the whole tree can
// be walked to collect parameters for the optimizer ("decoder.lstm.Wh"), to save and load them, to print a
// summary, and to switch dropout between training and evaluation. The forward functions are ordinary
// member functions of each module (their signatures differ: an LSTM takes a sequence and a state, a
// Linear a tensor), so Module itself has no virtual forward.
//
// Modules hold their children by pointer to members of the derived class: a Module is neither copied nor
// moved once built.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autodiff/tape.h"

namespace s2a {

class Module {
  public:
    Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    virtual ~Module() = default;

    // Every parameter of this module and its children, depth first, named by path: "encoder.lstm.Wx".
    std::vector<std::pair<std::string, Var>> named_parameters() const;
    std::vector<Var> parameters() const;
    int64_t num_parameters() const;
    void zero_grad() const;

    // Every random stream of the tree (dropout masks), named by path like the parameters:
    // "decoder.layer0.ffn.dropout". A run that stops and resumes restores them, so it draws the same masks.
    std::vector<std::pair<std::string, Rng*>> named_randoms() const;

    // Training mode (dropout on) or evaluation mode (dropout off), for the whole tree.
    void train(bool on = true);
    void eval() { train(false); }
    bool training() const { return training_; }

  protected:
    // Registers a trainable tensor under `name` and returns its handle (keep it as a member).
    Var add_parameter(const std::string& name, Tensor init);
    // Registers a random stream (a member of the derived class) under `name`.
    void add_random(const std::string& name, Rng& rng);
    // Registers a child module (a member of the derived class) under `name`.
    void add_child(const std::string& name, Module& child);

  private:
    void collect(const std::string& prefix, std::vector<std::pair<std::string, Var>>& out) const;
    void collect(const std::string& prefix, std::vector<std::pair<std::string, Rng*>>& out) const;

    std::vector<std::pair<std::string, Var>> params_;
    std::vector<std::pair<std::string, Rng*>> randoms_;
    std::vector<std::pair<std::string, Module*>> children_;
    bool training_ = true;
};

// Copies every parameter's values from `from` into `to`, a module of the same architecture (the same names and
// shapes, in the same order): a replica that decodes on another core (models/seq2seq.h, generate_batches).
// Throws std::invalid_argument naming the first parameter that differs, before anything is copied.
void copy_parameters(const Module& from, Module& to);

}  // namespace s2a
