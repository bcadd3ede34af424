// fuzz/tiny_module.h — the small fixed model fuzz_npz loads checkpoints into, and seed_checkpoint saves.
//
// Two layers, so a checkpoint holds arrays of one, two and several dimensions' worth of names and shapes:
//   embed.W (V, E)   out.W (E, C)   out.b (C)        V = 5 ids, E = 3, C = 2
#pragma once

#include "nn/embedding.h"
#include "nn/linear.h"

namespace s2a::fuzz {

struct TinyModule : Module {
    Embedding embed;
    Linear out;
    explicit TinyModule(Rng& rng) : embed(5, 3, rng), out(3, 2, rng) {
        add_child("embed", embed);
        add_child("out", out);
    }
};

}  // namespace s2a::fuzz
