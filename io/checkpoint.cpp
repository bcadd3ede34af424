// io/checkpoint.cpp — save, load (check everything, then copy), and the parameter table.
#include "io/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "io/npz.h"

namespace s2a {

namespace {

// The multi-index of the flat, row-major position `flat` in `shape`: "[1, 2]" for position 6 of (3, 4).
std::string index_text(const Shape& shape, int64_t flat) {
    std::vector<int64_t> index(shape.ndim);
    for (int d = shape.ndim - 1; d >= 0; --d) {
        index[d] = flat % shape[d];
        flat /= shape[d];
    }
    return fmt::format("[{}]", fmt::join(index, ", "));
}

}  // namespace

void save(const Module& m, const std::string& path) {
    std::vector<std::pair<std::string, const Tensor*>> arrays;
    for (const auto& [name, p] : m.named_parameters()) arrays.emplace_back(name, &p.value());
    save_npz(path, arrays);  // refuses duplicate names, so a tree with two children of one name cannot be saved
}

void load(Module& m, const std::string& path) {
    // 1. Read the whole file. Index it by name, refusing a name that appears twice (which one would win?).
    std::vector<std::pair<std::string, Tensor>> arrays = load_npz(path);
    std::map<std::string, Tensor*> in_file;
    for (auto& [name, tensor] : arrays)
        if (!in_file.emplace(name, &tensor).second)
            throw std::runtime_error(fmt::format("{}: array '{}' appears twice in the file", path, name));

    // 2. Check it against the model: every parameter present with its shape, and nothing left over.
    const auto params = m.named_parameters();
    std::vector<Tensor*> source;  // source[i] is the file's array for params[i]
    for (const auto& [name, p] : params) {
        auto it = in_file.find(name);
        if (it == in_file.end())
            throw std::runtime_error(fmt::format("{}: parameter '{}' (shape {} in the model) is missing from the file",
                                                 path, name, p.shape().str()));
        if (it->second->shape != p.shape())
            throw std::runtime_error(fmt::format("{}: parameter '{}' has shape {} in the model but {} in the file", path,
                                                 name, p.shape().str(), it->second->shape.str()));
        // A NaN or an infinity would load silently and turn every output into NaN: the file is of a model
        // that diverged, or corrupt.
        const Storage& values = it->second->data;
        const auto bad = std::find_if(values.begin(), values.end(), [](Real v) { return !std::isfinite(v); });
        if (bad != values.end())
            throw std::runtime_error(fmt::format("{}: parameter '{}' holds {} at {} (element {} of {}): a checkpoint "
                                                 "must hold finite numbers",
                                                 path, name, *bad, index_text(p.shape(), bad - values.begin()),
                                                 bad - values.begin(), values.size()));
        source.push_back(it->second);
        in_file.erase(it);
    }
    if (!in_file.empty()) {
        const auto& [name, tensor] = *in_file.begin();
        throw std::runtime_error(fmt::format("{}: the file holds '{}' (shape {}), which is not a parameter of the model"
                                             " ({} unexpected array(s) in all)",
                                             path, name, tensor->shape.str(), in_file.size()));
    }

    // 3. Everything fits: copy. The Vars keep their identity, so an optimizer holding them sees the new values.
    for (size_t i = 0; i < params.size(); ++i) {
        Var p = params[i].second;
        p.value().data = std::move(source[i]->data);  // same shape, checked above
    }
}

std::string summary(const Module& m) {
    const auto params = m.named_parameters();
    // Column widths from the contents, so long paths ("decoder.attention.W_query") still line up.
    size_t name_w = std::string("parameter").size(), shape_w = std::string("shape").size();
    for (const auto& [name, p] : params) {
        name_w = std::max(name_w, name.size());
        shape_w = std::max(shape_w, p.shape().str().size());
    }
    const std::string total = fmt::format("{}", m.num_parameters());
    const size_t count_w = std::max(std::string("count").size(), total.size());

    std::string s = fmt::format("{:<{}}  {:<{}}  {:>{}}\n", "parameter", name_w, "shape", shape_w, "count", count_w);
    for (const auto& [name, p] : params)
        s += fmt::format("{:<{}}  {:<{}}  {:>{}}\n", name, name_w, p.shape().str(), shape_w, p.numel(), count_w);
    s += fmt::format("{:<{}}  {:<{}}  {:>{}}\n", "total", name_w, "", shape_w, total, count_w);
    return s;
}

}  // namespace s2a
