// fuzz/fuzz_npz.cpp — the .npz reader (io/npz.h) on arbitrary bytes, and the checkpoint loader load()
// (io/checkpoint.h) on every archive the reader accepts.
//
// Properties of an accepted archive: every array has as many values as its shape says. Of load(): it
// either fills the model or throws and leaves every parameter as it was (its header's promise).
#include <stdexcept>
#include <vector>

#include "fuzz/fuzz.h"
#include "fuzz/tiny_module.h"
#include "io/checkpoint.h"
#include "io/npz.h"

using namespace s2a;

namespace {

// Every parameter value of m, in order: to see whether a failed load changed any.
std::vector<Storage> values_of(const Module& m) {
    std::vector<Storage> values;
    for (const auto& [name, p] : m.named_parameters()) values.push_back(p.value().data);
    return values;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static fuzz::MemoryFile file;

    std::vector<std::pair<std::string, Tensor>> arrays;
    try {
        arrays = load_npz(std::vector<uint8_t>(data, data + size), "fuzz.npz");
    } catch (const std::runtime_error&) {
        return 0;  // refused with a message: what a bad file should get
    }
    for (const auto& [name, tensor] : arrays)
        fuzz::fuzz_require(tensor.numel() == tensor.shape.numel(), "an array holds as many values as its shape");

    // The reader accepted it: now through the path, as a chapter loads a checkpoint.
    file.rewrite(data, size);
    Rng rng(1);
    fuzz::TinyModule model(rng);  // a fresh one each time, so that a run depends on its input only
    const std::vector<Storage> before = values_of(model);
    try {
        load(model, file.path());
    } catch (const std::runtime_error&) {
        fuzz::fuzz_require(values_of(model) == before, "a failed load leaves the model untouched");
    }
    return 0;
}
