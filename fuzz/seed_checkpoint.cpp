// fuzz/seed_checkpoint.cpp — writes the checkpoint of fuzz_npz's model, the seed it starts mutating from:
//     build/fuzz/bin/seed_checkpoint fuzz/corpus/fuzz_npz/tiny.npz      (make fuzz-seeds)
#include <fmt/format.h>

#include "fuzz/tiny_module.h"
#include "io/checkpoint.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        fmt::print(stderr, "usage: seed_checkpoint FILE.npz\n");
        return 2;
    }
    s2a::Rng rng(1);
    s2a::fuzz::TinyModule model(rng);
    s2a::save(model, argv[1]);
    return 0;
}
