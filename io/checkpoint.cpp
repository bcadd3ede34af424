// io/checkpoint.cpp — save, load (check everything, then copy), and the parameter table.
#include "io/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
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

// Takes array `name` out of `in_file`: it must be there, of `shape`, and hold only finite numbers (a NaN or an
// infinity would load silently and turn every output into NaN: the file is of a run that diverged, or corrupt).
// `what` says what the array is for: "parameter", "optimizer state".
Tensor take(NamedArrays& in_file, const std::string& path, const std::string& what, const std::string& name, const Shape& shape) {
    const auto it = in_file.find(name);
    if (it == in_file.end())
        throw std::runtime_error(fmt::format("{}: {} '{}' (shape {} in the model) is missing from the file", path, what, name, shape.str()));
    if (it->second.shape != shape)
        throw std::runtime_error(fmt::format("{}: {} '{}' has shape {} in the model but {} in the file", path, what, name,
                                             shape.str(), it->second.shape.str()));
    const Storage& values = it->second.data;
    const auto bad = std::find_if(values.begin(), values.end(), [](Real v) { return !std::isfinite(v); });
    if (bad != values.end())
        throw std::runtime_error(fmt::format("{}: {} '{}' holds {} at {} (element {} of {}): a checkpoint must hold finite numbers",
                                             path, what, name, *bad, index_text(shape, bad - values.begin()),
                                             bad - values.begin(), values.size()));
    Tensor t = std::move(it->second);
    in_file.erase(it);
    return t;
}

// The file must hold nothing that was not taken.
void refuse_leftovers(const NamedArrays& in_file, const std::string& path, const std::string& expected) {
    if (in_file.empty()) return;
    const auto& [name, tensor] = *in_file.begin();
    throw std::runtime_error(fmt::format("{}: the file holds '{}' (shape {}), which is not {} ({} unexpected array(s) in all)",
                                         path, name, tensor.shape.str(), expected, in_file.size()));
}

// The parameters' values, checked, in m's order.
std::vector<Tensor> take_parameters(NamedArrays& in_file, const Module& m, const std::string& path) {
    std::vector<Tensor> values;
    for (const auto& [name, p] : m.named_parameters()) values.push_back(take(in_file, path, "parameter", name, p.shape()));
    return values;
}

void copy_parameters(const Module& m, std::vector<Tensor>& values) {
    // The Vars keep their identity, so an optimizer holding them sees the new values.
    const auto params = m.named_parameters();
    for (size_t i = 0; i < params.size(); ++i) {
        Var p = params[i].second;
        p.value().data = std::move(values[i].data);  // same shape, checked
    }
}

// The optimizer must hold the model's parameters in the model's order: then its state can be named by them.
void check_same_parameters(const Module& m, const Optimizer& opt) {
    const auto params = m.named_parameters();
    bool same = params.size() == opt.params().size();
    for (size_t i = 0; same && i < params.size(); ++i) same = params[i].second.node() == opt.params()[i].node();
    if (!same) throw std::logic_error("resumable checkpoint: the optimizer does not hold the model's parameters in its order");
}

}  // namespace

NamedArrays read_checkpoint(const std::string& path) {
    NamedArrays in_file;  // a name twice is refused: which one would win?
    for (auto& [name, tensor] : load_npz(path))
        if (!in_file.emplace(name, std::move(tensor)).second)
            throw std::runtime_error(fmt::format("{}: array '{}' appears twice in the file", path, name));
    return in_file;
}

void take_parameters(Module& m, NamedArrays& arrays, const std::string& path) {
    std::vector<Tensor> values = take_parameters(arrays, m, path);
    copy_parameters(m, values);
}

bool describes_model(const std::string& name) {
    for (const char* prefix : {"config.", "vocab.", "task."})
        if (name.rfind(prefix, 0) == 0) return true;
    return false;
}

Tensor to_counts(const std::vector<uint64_t>& values) {
    Tensor t(Shape{static_cast<int>(values.size()), 4});  // (n, 4)
    for (size_t i = 0; i < values.size(); ++i)
        for (int k = 0; k < 4; ++k) t[int64_t(i) * 4 + k] = static_cast<Real>((values[i] >> (16 * k)) & 0xFFFF);
    return t;
}

std::vector<uint64_t> from_counts(const Tensor& t, const std::string& what) {
    if (t.shape.ndim != 2 || t.shape[1] != 4)
        throw std::runtime_error(fmt::format("{}: shape {}, expected (n, 4): whole numbers in 16-bit pieces", what, t.shape.str()));
    std::vector<uint64_t> values(t.shape[0], 0);
    for (int64_t j = 0; j < t.numel(); ++j) {
        const Real piece = t[j];
        if (!(piece >= 0 && piece <= 65535 && piece == std::floor(piece)))
            throw std::runtime_error(fmt::format("{}: element {} is {}, not a 16-bit piece (a whole number from 0 to 65535)", what, j, piece));
        values[j / 4] |= static_cast<uint64_t>(piece) << (16 * (j % 4));
    }
    return values;
}

void save(const Module& m, const std::string& path, const NamedArrays& description) {
    std::vector<std::pair<std::string, const Tensor*>> arrays;
    for (const auto& [name, p] : m.named_parameters()) arrays.emplace_back(name, &p.value());
    for (const auto& [name, t] : description) {
        if (!describes_model(name)) throw std::logic_error(fmt::format("save: '{}' is not a name of a model's description", name));
        arrays.emplace_back(name, &t);
    }
    save_npz(path, arrays);  // refuses duplicate names, so a tree with two children of one name cannot be saved
}

void load(Module& m, const std::string& path) {
    // Read the whole file and check it against the model: every parameter present with its shape, finite,
    // and nothing left over. Only then copy.
    NamedArrays in_file = read_checkpoint(path);
    std::vector<Tensor> values = take_parameters(in_file, m, path);
    for (auto it = in_file.begin(); it != in_file.end();) it = describes_model(it->first) ? in_file.erase(it) : std::next(it);
    if (in_file.count("optimizer.steps"))
        throw std::runtime_error(fmt::format("{}: a resumable checkpoint, for --resume: the weights alone are in the .npz "
                                             "file of the same name without '.resume'", path));
    refuse_leftovers(in_file, path, "a parameter of the model");
    copy_parameters(m, values);
}

void save_resumable(const Module& m, const Optimizer& opt, const NamedArrays& run, const std::string& path) {
    check_same_parameters(m, opt);
    const auto params = m.named_parameters();
    const OptimizerState state = opt.state();
    std::vector<std::pair<std::string, Tensor>> extra;  // what the arrays below point into
    extra.emplace_back("optimizer.steps", to_counts({state.steps}));
    for (const auto& [kind, counts] : state.counters) extra.emplace_back("optimizer." + kind, to_counts(counts));
    for (const auto& [name, rng] : m.named_randoms()) extra.emplace_back("random." + name, to_counts({rng->state()}));
    for (const auto& [name, t] : run) extra.emplace_back("run." + name, t);

    std::vector<std::pair<std::string, const Tensor*>> arrays;
    for (const auto& [name, p] : params) arrays.emplace_back(name, &p.value());
    for (const auto& [kind, tensors] : state.tensors)
        for (size_t i = 0; i < params.size(); ++i) arrays.emplace_back("optimizer." + kind + "." + params[i].first, &tensors[i]);
    for (const auto& [name, t] : extra) arrays.emplace_back(name, &t);
    save_npz(path, arrays);
}

NamedArrays load_resumable(Module& m, Optimizer& opt, const std::string& path,
                           const std::function<void(const NamedArrays& run)>& check_run) {
    check_same_parameters(m, opt);
    NamedArrays in_file = read_checkpoint(path);
    // 1. The parameters, as load() reads them.
    std::vector<Tensor> values = take_parameters(in_file, m, path);

    // 2. The optimizer's state, in the shape of its own.
    const auto params = m.named_parameters();
    const OptimizerState now = opt.state();
    OptimizerState state;
    const auto counts = [&](const std::string& name, const Shape& shape) {
        return from_counts(take(in_file, path, "optimizer state", name, shape), path + ": " + name);
    };
    state.steps = counts("optimizer.steps", Shape{1, 4})[0];
    for (const auto& [kind, tensors] : now.tensors) {
        std::vector<Tensor> given;
        for (const auto& [name, p] : params) given.push_back(take(in_file, path, "optimizer state", "optimizer." + kind + "." + name, p.shape()));
        state.tensors.emplace_back(kind, std::move(given));
    }
    for (const auto& [kind, c] : now.counters)
        state.counters.emplace_back(kind, counts("optimizer." + kind, Shape{static_cast<int>(params.size()), 4}));

    // 3. The random streams.
    std::vector<uint64_t> randoms;
    for (const auto& [name, rng] : m.named_randoms()) randoms.push_back(counts("random." + name, Shape{1, 4})[0]);

    // 4. The run's own arrays: every other one must be "run.*", and the caller checks them.
    NamedArrays run;
    for (auto it = in_file.begin(); it != in_file.end();) {
        if (it->first.rfind("run.", 0) == 0) {
            run.emplace(it->first.substr(4), std::move(it->second));
            it = in_file.erase(it);
        } else {
            ++it;
        }
    }
    refuse_leftovers(in_file, path, "a parameter, optimizer state or random stream of the model");
    try {
        check_run(run);
        opt.set_state(state);  // checks before it changes anything; what it checks was checked above as well
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
    }

    // 5. Everything fits: copy.
    copy_parameters(m, values);
    const auto streams = m.named_randoms();
    for (size_t i = 0; i < streams.size(); ++i) *streams[i].second = Rng(randoms[i]);
    return run;
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
