// autodiff/broadcast.cpp — NumPy broadcasting of two shapes.
#include "autodiff/broadcast.h"

#include <algorithm>

namespace s2a {

Broadcast broadcast(const char* op, const Shape& a, const Shape& b) {
    Broadcast bc{};
    bc.same = a == b;
    bc.out.ndim = std::max(a.ndim, b.ndim);
    int64_t sa = 1, sb = 1;  // running strides of a and b, from the last axis backwards
    for (int i = 3; i >= 0; --i) {
        const int ka = i - (4 - a.ndim), kb = i - (4 - b.ndim), ko = i - (4 - bc.out.ndim);
        const int da = ka >= 0 ? a[ka] : 1, db = kb >= 0 ? b[kb] : 1;
        if (da != db && da != 1 && db != 1) shape_error(op, "shapes cannot be broadcast together", {a, b});
        bc.dims[i] = da == 1 ? db : da;
        if (ko >= 0) bc.out.dims[ko] = bc.dims[i];
        bc.stride_a[i] = da == 1 ? 0 : sa;
        bc.stride_b[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    return bc;
}

Tensor broadcast_to(const char* op, const Tensor& t, const Shape& s) {
    if (t.shape == s) return t;
    const Broadcast bc = broadcast(op, s, t.shape);
    if (bc.out != s) shape_error(op, "cannot be stretched to the shape it must cover", {t.shape, s});
    Tensor r(s);
    for_each(bc, [&](int64_t o, int64_t, int64_t it) { r[o] = t[it]; });
    return r;
}

}  // namespace s2a
