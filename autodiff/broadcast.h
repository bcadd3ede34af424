// autodiff/broadcast.h — NumPy broadcasting, shared by the pointwise ops and the masked softmax.
// (Internal to autodiff/: the ops' users only see its effect, described in ops.h.)
#pragma once

#include "autodiff/tensor.h"

namespace s2a {

// NumPy broadcasting of two shapes, flattened to 4 dimensions (missing leading ones are 1). For each
// output position the loops below know the matching position in a and in b: a stretched dimension has
// stride 0, so the same element is read (and its gradient summed) along it.
struct Broadcast {
    Shape out;
    int dims[4];
    int64_t stride_a[4], stride_b[4];
    bool same;  // a, b and out all have one shape: a flat loop will do
};

// The broadcast of a and b; throws ShapeError naming op if they do not fit.
Broadcast broadcast(const char* op, const Shape& a, const Shape& b);

// Calls f(out_index, a_index, b_index) for every output position, in row-major order.
template <class F>
void for_each(const Broadcast& bc, F f) {
    if (bc.same) {
        for (int64_t i = 0, n = bc.out.numel(); i < n; ++i) f(i, i, i);
        return;
    }
    // Along the last axis both inputs are usually contiguous (a bias row, a residual): then the innermost
    // loop walks all three arrays with stride 1, which the compiler can vectorise.
    const bool contiguous = bc.stride_a[3] == 1 && bc.stride_b[3] == 1;
    int64_t o = 0;
    for (int i0 = 0; i0 < bc.dims[0]; ++i0)
        for (int i1 = 0; i1 < bc.dims[1]; ++i1)
            for (int i2 = 0; i2 < bc.dims[2]; ++i2, o += bc.dims[3]) {
                const int64_t ja = i0 * bc.stride_a[0] + i1 * bc.stride_a[1] + i2 * bc.stride_a[2];
                const int64_t jb = i0 * bc.stride_b[0] + i1 * bc.stride_b[1] + i2 * bc.stride_b[2];
                if (contiguous)
                    for (int i3 = 0; i3 < bc.dims[3]; ++i3) f(o + i3, ja + i3, jb + i3);
                else
                    for (int i3 = 0; i3 < bc.dims[3]; ++i3) f(o + i3, ja + i3 * bc.stride_a[3], jb + i3 * bc.stride_b[3]);
            }
}

// t stretched to shape s (for masks): the same values repeated along the broadcast axes.
Tensor broadcast_to(const char* op, const Tensor& t, const Shape& s);

}  // namespace s2a
