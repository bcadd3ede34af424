// nn/grad_norms.cpp — gradient norms per parameter and per layer.
#include "nn/grad_norms.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <map>
#include <stdexcept>

namespace s2a {

// ‖g‖² = Σ g², in double so that a float build summing many small squares loses nothing.
static double squared_norm(const Var& p) {
    if (!p.has_grad()) return 0;
    const Real* g = p.grad().ptr();
    double sum = 0;
    for (int64_t k = 0, n = p.numel(); k < n; ++k) sum += double(g[k]) * double(g[k]);
    return sum;
}

std::vector<GradNorm> grad_norms(const Module& module) {
    std::vector<GradNorm> out;
    for (const auto& [name, p] : module.named_parameters()) out.push_back({name, std::sqrt(squared_norm(p))});
    return out;
}

std::vector<GradNorm> layer_grad_norms(const Module& module, const std::string& prefix) {
    std::map<int, double> squares;  // layer index → Σ ‖g‖² of its parameters; a map keeps the indices sorted
    for (const auto& [name, p] : module.named_parameters()) {
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        size_t end = prefix.size();  // the index is the run of digits after the prefix, then a '.'
        while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
        if (end == prefix.size() || end == name.size() || name[end] != '.') continue;
        squares[std::stoi(name.substr(prefix.size(), end - prefix.size()))] += squared_norm(p);
    }
    if (squares.empty())
        throw std::invalid_argument(fmt::format("layer_grad_norms: no parameter is named '{}<index>.…'", prefix));
    std::vector<GradNorm> out;
    for (const auto& [index, sum] : squares) out.push_back({prefix + std::to_string(index), std::sqrt(sum)});
    return out;
}

}  // namespace s2a
