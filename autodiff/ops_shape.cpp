// autodiff/ops_shape.cpp — reductions (sum, mean) and ops that move values around without arithmetic
// (reshape, transpose, permute, concat, slice, select, stack).
//
// Moving values is linear, so each backward moves the gradient back the way the value came: a slice's
// backward adds its gradient into the sliced window, a concat's backward slices its gradient apart, and so on.
//
// Along an axis, a row-major tensor is `outer` blocks of `n` (the axis) × `inner` contiguous values:
// shape (2, 3, 4) along axis 1 is outer 2, n 3, inner 4.
#include <fmt/format.h>

#include <numeric>

#include "autodiff/ops.h"

namespace s2a {

namespace {

int check_axis(const char* op, int axis, int ndim, const Shape& s) {
    const int a = axis < 0 ? axis + ndim : axis;
    if (a < 0 || a >= ndim) shape_error(op, fmt::format("axis {} is out of range for {} dimensions", axis, ndim), {s});
    return a;
}

struct AxisSplit {
    int64_t outer, n, inner;
};

AxisSplit split_at(const Shape& s, int axis) {
    AxisSplit r{1, s[axis], 1};
    for (int i = 0; i < axis; ++i) r.outer *= s[i];
    for (int i = axis + 1; i < s.ndim; ++i) r.inner *= s[i];
    return r;
}

// For each of `rows` rows, copies (or adds) `len` contiguous values from src to dst; the rows start
// src_stride and dst_stride apart. Every concat, slice, select and stack forward and backward is one call.
void copy_rows(int64_t rows, int64_t len, const Real* src, int64_t src_stride, Real* dst, int64_t dst_stride,
               bool accumulate) {
    for (int64_t r = 0; r < rows; ++r) {
        const Real* s = src + r * src_stride;
        Real* d = dst + r * dst_stride;
        if (accumulate)
            for (int64_t i = 0; i < len; ++i) d[i] += s[i];
        else
            std::copy(s, s + len, d);
    }
}

Shape without_axis(const Shape& s, int axis) {
    Shape r;
    for (int i = 0; i < s.ndim; ++i)
        if (i != axis) r.dims[r.ndim++] = s[i];
    return r;
}

Shape with_axis(const Shape& s, int axis, int size) {
    if (s.ndim == Shape::kMaxDims) shape_error("stack", "the result would have more than 4 dimensions", {s});
    Shape r;
    for (int i = 0; i <= s.ndim; ++i) r.dims[r.ndim++] = i == axis ? size : s[i - (i > axis)];
    return r;
}

}  // namespace

// y = Σᵢ xᵢ          ∂y/∂xᵢ = 1
Var sum(const Var& x) {
    Real total = 0;
    for (Real v : x.value().data) total += v;
    return record("sum", Tensor::scalar(total), {x}, [x](Node& out) {
        const Real dy = out.grad[0];
        for (Real& d : x.grad().data) d += dy;
    });
}

// y[o, i] = Σₖ x[o, k, i]      ∂y[o, i]/∂x[o, k, i] = 1
Var sum(const Var& x, int axis, bool keepdim) {
    axis = check_axis("sum", axis, x.ndim(), x.shape());
    const AxisSplit s = split_at(x.shape(), axis);
    Shape ys = without_axis(x.shape(), axis);
    if (keepdim) ys = with_axis(ys, axis, 1);
    Tensor y(ys);
    const Real* px = x.value().ptr();
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t k = 0; k < s.n; ++k)
            for (int64_t i = 0; i < s.inner; ++i) y[o * s.inner + i] += px[(o * s.n + k) * s.inner + i];
    return record("sum_axis", std::move(y), {x}, [x, s](Node& out) {
        Real* dx = x.grad().ptr();
        const Real* dy = out.grad.ptr();
        for (int64_t o = 0; o < s.outer; ++o)
            for (int64_t k = 0; k < s.n; ++k)
                for (int64_t i = 0; i < s.inner; ++i) dx[(o * s.n + k) * s.inner + i] += dy[o * s.inner + i];
    });
}

// The mean is the sum scaled by 1/n; two nodes on the tape, each with its own (already checked) backward.
Var mean(const Var& x) { return scale(sum(x), Real(1) / static_cast<Real>(std::max<int64_t>(x.numel(), 1))); }

Var mean(const Var& x, int axis, bool keepdim) {
    const int a = check_axis("mean", axis, x.ndim(), x.shape());
    return scale(sum(x, a, keepdim), Real(1) / static_cast<Real>(std::max(x.dim(a), 1)));
}

// Same values, new shape.    dx = dy (reshaped back)
Var reshape(const Var& x, const Shape& shape) {
    if (shape.numel() != x.numel()) shape_error("reshape", "element counts differ", {x.shape(), shape});
    Tensor y = x.value();  // a copy: the output's buffer is its own
    y.shape = shape;
    return record("reshape", std::move(y), {x}, [x](Node& out) {
        Real* dx = x.grad().ptr();
        const Real* dy = out.grad.ptr();
        for (int64_t i = 0, n = out.grad.numel(); i < n; ++i) dx[i] += dy[i];
    });
}

namespace {

// y[i₀, i₁, …] = x[the same indices, in the order axes names]; backward sends each gradient back to the
// element it came from. Shapes are padded to 4 axes so one set of four loops serves every rank.
Var permute_op(const char* op, const Var& x, const std::vector<int>& axes) {
    const int nd = x.ndim();
    std::vector<int> seen(nd, 0);
    bool ok = static_cast<int>(axes.size()) == nd;
    for (int a : axes) ok = ok && a >= 0 && a < nd && !seen[a]++;
    if (!ok) {
        std::string list;
        for (int a : axes) list += fmt::format(list.empty() ? "{}" : ", {}", a);
        shape_error(op, fmt::format("axes [{}] are not a permutation of {} axes", list, nd), {x.shape()});
    }
    int64_t xstride[4];
    for (int i = nd - 1, st = 1; i >= 0; --i) xstride[i] = st, st *= x.dim(i);
    Shape ys;
    ys.ndim = nd;
    int dims[4] = {1, 1, 1, 1};
    int64_t step[4] = {0, 0, 0, 0};  // how far to move in x for one step along each output axis
    for (int i = 0; i < nd; ++i) {
        ys.dims[i] = x.dim(axes[i]);
        dims[4 - nd + i] = ys.dims[i];
        step[4 - nd + i] = xstride[axes[i]];
    }
    // Calls f(y index, x index) for every element.
    auto each = [dims, step](auto f) {
        int64_t o = 0;
        for (int i0 = 0; i0 < dims[0]; ++i0)
            for (int i1 = 0; i1 < dims[1]; ++i1)
                for (int i2 = 0; i2 < dims[2]; ++i2)
                    for (int i3 = 0; i3 < dims[3]; ++i3, ++o)
                        f(o, i0 * step[0] + i1 * step[1] + i2 * step[2] + i3 * step[3]);
    };
    Tensor y(ys);
    const Real* px = x.value().ptr();
    each([&](int64_t o, int64_t i) { y[o] = px[i]; });
    return record(op, std::move(y), {x}, [x, each](Node& out) {
        Real* dx = x.grad().ptr();
        const Real* dy = out.grad.ptr();
        each([&](int64_t o, int64_t i) { dx[i] += dy[o]; });
    });
}

}  // namespace

Var permute(const Var& x, const std::vector<int>& axes) { return permute_op("permute", x, axes); }

Var transpose(const Var& x) {
    if (x.ndim() < 2) shape_error("transpose", "needs at least 2 dimensions", {x.shape()});
    std::vector<int> axes(x.ndim());
    std::iota(axes.begin(), axes.end(), 0);
    std::swap(axes[x.ndim() - 1], axes[x.ndim() - 2]);
    return permute_op("transpose", x, axes);
}

// Joins tensors along an existing axis.    dxⱼ = the slice of dy that xⱼ filled
Var concat(const std::vector<Var>& xs, int axis) {
    if (xs.empty()) throw ShapeError("concat: needs at least one tensor");
    const Shape& first = xs[0].shape();
    axis = check_axis("concat", axis, first.ndim, first);
    Shape ys = first;
    ys.dims[axis] = 0;
    for (const Var& x : xs) {
        if (without_axis(x.shape(), axis) != without_axis(first, axis) || x.ndim() != first.ndim)
            shape_error("concat", fmt::format("shapes differ outside axis {}", axis), {first, x.shape()});
        ys.dims[axis] += x.dim(axis);
    }
    const AxisSplit s = split_at(ys, axis);
    Tensor y(ys);
    int64_t offset = 0;  // where along the axis the current input starts
    for (const Var& x : xs) {
        const int64_t len = x.dim(axis) * s.inner;
        copy_rows(s.outer, len, x.value().ptr(), len, y.ptr() + offset, s.n * s.inner, false);
        offset += len;
    }
    return record("concat", std::move(y), xs, [xs, axis, s](Node& out) {
        int64_t offset = 0;
        for (const Var& x : xs) {
            const int64_t len = x.dim(axis) * s.inner;
            if (x.requires_grad()) copy_rows(s.outer, len, out.grad.ptr() + offset, s.n * s.inner, x.grad().ptr(), len, true);
            offset += len;
        }
    });
}

namespace {

// y = x[..., begin:end, ...] along axis (the axis dropped when `drop_axis`).   dx[window] += dy
Var slice_op(const char* op, const Var& x, int axis, int begin, int end, bool drop_axis) {
    axis = check_axis(op, axis, x.ndim(), x.shape());
    if (begin < 0 || end > x.dim(axis) || begin > end)
        shape_error(op, fmt::format("range [{}, {}) does not fit axis {} of size {}", begin, end, axis, x.dim(axis)), {x.shape()});
    const AxisSplit s = split_at(x.shape(), axis);
    Shape ys = x.shape();
    ys.dims[axis] = end - begin;
    if (drop_axis) ys = without_axis(ys, axis);
    const int64_t len = (end - begin) * s.inner, start = begin * s.inner;
    Tensor y(ys);
    copy_rows(s.outer, len, x.value().ptr() + start, s.n * s.inner, y.ptr(), len, false);
    return record(op, std::move(y), {x}, [x, s, len, start](Node& out) {
        copy_rows(s.outer, len, out.grad.ptr(), len, x.grad().ptr() + start, s.n * s.inner, true);
    });
}

}  // namespace

Var slice(const Var& x, int axis, int begin, int end) { return slice_op("slice", x, axis, begin, end, false); }

Var select(const Var& x, int axis, int index) {
    const int a = check_axis("select", axis, x.ndim(), x.shape());
    if (index < 0 || index >= x.dim(a))
        shape_error("select", fmt::format("index {} is out of range for axis {} of size {}", index, a, x.dim(a)), {x.shape()});
    return slice_op("select", x, a, index, index + 1, true);
}

// Puts equal-shaped tensors side by side along a new axis.    dxⱼ = dy[..., j, ...]
Var stack(const std::vector<Var>& xs, int axis) {
    if (xs.empty()) throw ShapeError("stack: needs at least one tensor");
    const Shape& first = xs[0].shape();
    for (const Var& x : xs)
        if (x.shape() != first) shape_error("stack", "all tensors must have the same shape", {first, x.shape()});
    const int a = axis < 0 ? axis + first.ndim + 1 : axis;
    if (a < 0 || a > first.ndim) shape_error("stack", fmt::format("axis {} is out of range", axis), {first});
    const Shape ys = with_axis(first, a, static_cast<int>(xs.size()));
    const AxisSplit s = split_at(ys, a);
    Tensor y(ys);
    for (size_t j = 0; j < xs.size(); ++j)
        copy_rows(s.outer, s.inner, xs[j].value().ptr(), s.inner, y.ptr() + j * s.inner, s.n * s.inner, false);
    return record("stack", std::move(y), xs, [xs, s](Node& out) {
        for (size_t j = 0; j < xs.size(); ++j)
            if (xs[j].requires_grad())
                copy_rows(s.outer, s.inner, out.grad.ptr() + j * s.inner, s.n * s.inner, xs[j].grad().ptr(), s.inner, true);
    });
}

}  // namespace s2a
