// nn/module.cpp — walking the module tree.
#include "nn/module.h"

#include <fmt/format.h>

#include <stdexcept>

namespace s2a {

Var Module::add_parameter(const std::string& name, Tensor init) {
    Var p = parameter(std::move(init), name);
    params_.emplace_back(name, p);
    return p;
}

void Module::add_random(const std::string& name, Rng& rng) { randoms_.emplace_back(name, &rng); }

void Module::add_child(const std::string& name, Module& child) { children_.emplace_back(name, &child); }

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Var>>& out) const {
    for (const auto& [name, p] : params_) out.emplace_back(prefix + name, p);
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Rng*>>& out) const {
    for (const auto& [name, rng] : randoms_) out.emplace_back(prefix + name, rng);
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Rng*>> Module::named_randoms() const {
    std::vector<std::pair<std::string, Rng*>> out;
    collect("", out);
    return out;
}

std::vector<std::pair<std::string, Var>> Module::named_parameters() const {
    std::vector<std::pair<std::string, Var>> out;
    collect("", out);
    return out;
}

std::vector<Var> Module::parameters() const {
    std::vector<Var> out;
    for (auto& [name, p] : named_parameters()) out.push_back(p);
    return out;
}

int64_t Module::num_parameters() const {
    int64_t n = 0;
    for (auto& [name, p] : named_parameters()) n += p.numel();
    return n;
}

void Module::zero_grad() const { s2a::zero_grad(parameters()); }

void Module::train(bool on) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
}

void copy_parameters(const Module& from, Module& to) {
    const auto source = from.named_parameters(), target = to.named_parameters();
    if (source.size() != target.size())
        throw std::invalid_argument(fmt::format("copy_parameters: {} parameters into a module of {}", source.size(), target.size()));
    for (size_t i = 0; i < source.size(); ++i)
        if (source[i].first != target[i].first || source[i].second.shape() != target[i].second.shape())
            throw std::invalid_argument(fmt::format("copy_parameters: parameter {} is {} {} here and {} {} there", i,
                                                    source[i].first, source[i].second.shape().str(), target[i].first,
                                                    target[i].second.shape().str()));
    for (size_t i = 0; i < source.size(); ++i) target[i].second.value().data = source[i].second.value().data;
}

}  // namespace s2a
