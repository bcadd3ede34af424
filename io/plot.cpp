// io/plot.cpp — SVG line plots and attention heat maps, drawn by hand.
//
// An SVG file is XML text: <rect>, <line>, <polyline>, <circle> and <text> elements at pixel coordinates.
// Its y axis points DOWN from the top-left corner, so each plot maps a data point (x, y) to pixels with one
// linear function per axis, the y one flipped:
//
//     px = left   + (x - x_lo) / (x_hi - x_lo) * width
//     py = bottom - (y - y_lo) / (y_hi - y_lo) * height      (larger y is higher on the page)
//
// Everything the caller wrote (titles, names, labels) goes through xml_escape, because a '<' or '&' in a
// series name would otherwise end the file's XML in the middle.
#include "io/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <unistd.h>  // isatty, fileno

#include "data/utf8.h"

namespace s2a {

namespace {

// ---------------------------------------------------------------------------------------------------
// Text and files

// Replaces the five characters XML gives a meaning to with their entities. The file is UTF-8 (XML's default),
// so other characters are written as they are; but it must stay valid UTF-8 and valid XML 1.0: invalid bytes
// become U+FFFD (the replacement character '�'), and the characters XML forbids (control characters other
// than tab and newline, U+FFFE and U+FFFF) become '?'.
std::string xml_escape(const std::string& s) {
    std::string out;
    for (size_t at = 0; at < s.size();) {
        const Utf8Char ch = decode_char(s, at);
        const char32_t c = ch.code_point;
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                const bool forbidden = (c < 0x20 && c != '\t' && c != '\n') || c == 0xFFFE || c == 0xFFFF;
                if (!ch.problem.empty())
                    out += "\uFFFD";
                else
                    out += forbidden ? std::string("?") : s.substr(at, ch.bytes);
        }
        at += ch.bytes;
    }
    return out;
}

// A label as it is drawn. The toy tasks pad with spaces, and a space label would be an invisible gap, so
// each space is shown as '␣' (U+2423 OPEN BOX).
std::string visible(const std::string& label) {
    std::string out;
    for (char c : label) out += c == ' ' ? std::string("␣") : std::string(1, c);
    return out;
}

// Pixel coordinates to a tenth of a pixel: finer would only make the file longer.
std::string px(double v) { return fmt::format("{:.1f}", v); }

// The opening of an SVG picture of the given size, on a white background (a transparent one turns black in
// some viewers).
std::string svg_start(double width, double height) {
    return fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                       "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
                       "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
                       px(width), px(height));
}

// A straight line from (x1, y1) to (x2, y2).
std::string svg_line(double x1, double y1, double x2, double y2, const char* colour, double stroke_width = 1) {
    return fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>\n", px(x1),
                       px(y1), px(x2), px(y2), colour, stroke_width);
}

// An unfilled rectangle: a frame.
std::string svg_frame(double x, double y, double width, double height, const char* colour) {
    return fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"{}\"/>\n", px(x),
                       px(y), px(width), px(height), colour);
}

// Writes `text` to path + ".tmp", then renames it to `path`. rename() replaces the old file in one step, so
// a browser reloading the plot during training sees the old picture or the new one, never half a file.
void write_file_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr)
        throw std::runtime_error(
            fmt::format("cannot write plot {}: cannot open {} ({})", path, tmp, std::strerror(errno)));
    const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    const bool closed = std::fclose(f) == 0;  // close even after a failed write, or the handle leaks
    if (!written || !closed) {
        std::remove(tmp.c_str());
        throw std::runtime_error(fmt::format("cannot write plot {}: writing {} failed", path, tmp));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int error = errno;
        std::remove(tmp.c_str());
        throw std::runtime_error(
            fmt::format("cannot write plot {}: cannot rename {} to it ({})", path, tmp, std::strerror(error)));
    }
}

// ---------------------------------------------------------------------------------------------------
// Axes with round numbers

// An axis from lo to hi, with a tick (and a grid line) at each value in `ticks`.
struct Axis {
    double lo = 0, hi = 1;
    std::vector<double> ticks;
    int decimals = 0;  // digits after the point in tick labels: 1 for a step of 0.2, 0 for a step of 10
};

// The round step nearest to `raw`: 1, 2 or 5 times a power of ten (…, 0.5, 1, 2, 5, 10, 20, …). People
// read 0, 0.2, 0.4 at a glance; 0, 0.17, 0.34 they have to study. "Nearest" is on a log scale, so the
// switch from 1 to 2 comes at √2, from 2 to 5 at √10, from 5 to 10 at √50.
double round_step(double raw) {
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / power;  // in [1, 10)
    const double mantissa = f < std::sqrt(2.0) ? 1 : f < std::sqrt(10.0) ? 2 : f < std::sqrt(50.0) ? 5 : 10;
    return mantissa * power;
}

// An axis that shows the values from lo to hi (lo > hi means there are none) in about five round steps.
// The ends are pushed outwards to whole steps, except a fixed top `top` (NaN when there is none).
Axis make_axis(double lo, double hi, double top) {
    if (lo > hi) {  // nothing to show: an empty axis from 0 to 1
        lo = 0;
        hi = 1;
    }
    if (std::isfinite(top)) hi = top;
    if (!(lo < hi)) {
        // A single value, or a fixed top at or below the data: give the axis a length to divide.
        const double pad = hi == 0 ? 1.0 : 0.1 * std::fabs(hi);
        lo = hi - pad;
        if (!std::isfinite(top)) hi += pad;
    }
    const double step = round_step((hi - lo) / 5);
    // The 1e-9 keeps rounding noise (0.3 / 0.1 = 2.9999999999999996) from adding a needless step.
    const double first = std::floor(lo / step + 1e-9);
    Axis axis;
    axis.lo = first * step;
    axis.hi = std::isfinite(top) ? top : std::ceil(hi / step - 1e-9) * step;
    // Counting steps with an int (not adding step to a double until it passes hi) cannot loop forever when
    // the values are so large that adding a step changes nothing. The cap of 20 never binds for ordinary data.
    const double steps = std::min(20.0, std::floor((axis.hi - axis.lo) / step + 1e-9));
    for (int i = 0; i <= steps; ++i) axis.ticks.push_back((first + i) * step);
    // A step of 10^-d or more needs d decimals; beyond about 17 a double has no more digits to show.
    const double digits = -std::floor(std::log10(step) + 1e-9);
    axis.decimals = digits > 0 ? static_cast<int>(std::min(digits, 17.0)) : 0;
    return axis;
}

// ---------------------------------------------------------------------------------------------------
// Line plots

// The Okabe–Ito colours: chosen to stay distinguishable for readers with colour blindness (yellow is left
// out, it vanishes on white). Series beyond the seventh reuse them in order.
const char* const kSeriesColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
constexpr size_t kNumSeriesColours = sizeof(kSeriesColours) / sizeof(kSeriesColours[0]);

constexpr double kPlotWidth = 720, kPlotHeight = 440;
constexpr double kSansCharWidth = 7;  // the average width of a 12px sans-serif character, for sizing the legend
constexpr size_t kMaxMarkers = 40;    // per series; a marker on each of 1000 points would hide the line

struct Point {
    double x, y;  // in pixels
};

}  // namespace

void write_line_plot(const std::string& path, const LinePlot& plot) {
    // 1. The range of the data over all series, skipping NaN and infinite points.
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (const Series& s : plot.series) {
        if (s.x.size() != s.y.size())
            throw std::invalid_argument(fmt::format("write_line_plot {}: series '{}' has {} x values but {} y values",
                                                    path, s.name, s.x.size(), s.y.size()));
        for (size_t i = 0; i < s.x.size(); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
            x_lo = std::min(x_lo, s.x[i]);
            x_hi = std::max(x_hi, s.x[i]);
            y_lo = std::min(y_lo, s.y[i]);
            y_hi = std::max(y_hi, s.y[i]);
        }
    }
    if (plot.y_from_zero && y_lo <= y_hi) {
        y_lo = std::min(y_lo, 0.0);
        y_hi = std::max(y_hi, 0.0);
    }
    const Axis xa = make_axis(x_lo, x_hi, NAN);
    const Axis ya = make_axis(y_lo, y_hi, plot.y_max);

    // 2. The layout: title on top, tick labels and axis labels below and left, the legend on the right,
    //    sized to the longest series name. A very long name widens the picture rather than being cut.
    size_t longest_name = 0;
    for (const Series& s : plot.series) longest_name = std::max(longest_name, static_cast<size_t>(display_width(s.name)));
    const double legend_w = plot.series.empty() ? 0 : 44 + kSansCharWidth * static_cast<double>(longest_name);
    const double left = 76, top = 44, right_margin = legend_w + 24, bottom_margin = 56;
    const double width = std::max(kPlotWidth, left + 400 + right_margin), height = kPlotHeight;
    const double x0 = left, x1 = width - right_margin, y0 = top, y1 = height - bottom_margin;
    auto to_px = [&](double x) { return x0 + (x - xa.lo) / (xa.hi - xa.lo) * (x1 - x0); };
    auto to_py = [&](double y) { return y1 - (y - ya.lo) / (ya.hi - ya.lo) * (y1 - y0); };

    std::string svg = svg_start(width, height);
    svg += fmt::format("<text x=\"{}\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">"
                       "{}</text>\n", px((x0 + x1) / 2), xml_escape(plot.title));

    // 3. Grid lines, tick marks and tick labels, then the frame over them.
    for (double t : xa.ticks) {
        const double x = to_px(t);
        svg += svg_line(x, y0, x, y1, "#e3e3e3");  // grid line
        svg += svg_line(x, y1, x, y1 + 5, "#444");  // tick mark
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{:.{}f}</text>\n", px(x),
                           px(y1 + 19), t, xa.decimals);
    }
    for (double t : ya.ticks) {
        const double y = to_py(t);
        svg += svg_line(x0, y, x1, y, "#e3e3e3");
        svg += svg_line(x0 - 5, y, x0, y, "#444");
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#333\">{:.{}f}</text>\n", px(x0 - 8),
                           px(y + 4), t, ya.decimals);
    }
    svg += svg_frame(x0, y0, x1 - x0, y1 - y0, "#444");
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n", px((x0 + x1) / 2),
                       px(height - 12), xml_escape(plot.x_label));
    svg += fmt::format("<text transform=\"translate(20 {}) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">"
                       "{}</text>\n", px((y0 + y1) / 2), xml_escape(plot.y_label));

    // 4. The series, clipped to the plot area (a little beyond it, so a marker on the frame stays round):
    //    whatever lies above a fixed y_max is cut off at the frame instead of running over the title.
    svg += fmt::format("<defs><clipPath id=\"plot-area\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>"
                       "</clipPath></defs>\n", px(x0 - 4), px(y0 - 4), px(x1 - x0 + 8), px(y1 - y0 + 8));
    svg += "<g clip-path=\"url(#plot-area)\">\n";
    for (size_t i = 0; i < plot.series.size(); ++i) {
        const Series& s = plot.series[i];
        const char* colour = kSeriesColours[i % kNumSeriesColours];

        // The finite points in pixels, split into runs: a NaN breaks the line instead of joining across it.
        std::vector<std::vector<Point>> runs(1);
        size_t finite = 0;
        for (size_t j = 0; j < s.x.size(); ++j) {
            if (std::isfinite(s.x[j]) && std::isfinite(s.y[j])) {
                runs.back().push_back({to_px(s.x[j]), to_py(s.y[j])});
                ++finite;
            } else if (!runs.back().empty()) {
                runs.emplace_back();
            }
        }
        const size_t stride = std::max(size_t{1}, (finite + kMaxMarkers - 1) / kMaxMarkers);  // marker spacing

        std::string markers;
        size_t k = 0;  // index of the point among the series' finite points
        for (const std::vector<Point>& run : runs) {
            std::string points;
            for (const Point& p : run) {
                points += fmt::format("{}{},{}", points.empty() ? "" : " ", px(p.x), px(p.y));
                // A run of a single point has no line to show it, so it always gets its marker.
                if (k++ % stride == 0 || run.size() == 1)
                    markers += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\"/>\n", px(p.x), px(p.y));
            }
            if (run.size() >= 2)
                svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
                                   "stroke-linejoin=\"round\"/>\n", points, colour);
        }
        svg += fmt::format("<g fill=\"{}\">\n{}</g>\n", colour, markers);
    }
    svg += "</g>\n";

    // 5. The legend: a short line with a marker, then the name, one series a row.
    if (!plot.series.empty()) {
        const double lx = x1 + 16, ly = y0;
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"white\" stroke=\"#bbb\"/>\n",
                           px(lx), px(ly), px(legend_w), px(12 + 20 * static_cast<double>(plot.series.size())));
        for (size_t i = 0; i < plot.series.size(); ++i) {
            const char* colour = kSeriesColours[i % kNumSeriesColours];
            const double y = ly + 16 + 20 * static_cast<double>(i);
            svg += svg_line(lx + 8, y, lx + 30, y, colour, 2);
            svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>\n", px(lx + 19), px(y), colour);
            svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", px(lx + 36), px(y + 4),
                               xml_escape(plot.series[i].name));
        }
    }
    svg += "</svg>\n";
    write_file_atomically(path, svg);
}

// ---------------------------------------------------------------------------------------------------
// Attention heat maps

namespace {

// Every cell needs a value: a map whose labels and values disagree was built wrong, and drawing it anyway
// would put weights under the wrong characters.
void check_size(const HeatMap& m) {
    if (m.row_labels.size() * m.col_labels.size() != m.values.size())
        throw std::invalid_argument(fmt::format("heat map '{}': {} row labels × {} column labels need {} values, "
                                                "not {}", m.title, m.row_labels.size(), m.col_labels.size(),
                                                m.row_labels.size() * m.col_labels.size(), m.values.size()));
}

// Attention weights ought to lie in [0, 1]; one a hair outside from rounding is drawn at the nearest end.
double clamp01(double v) { return std::min(1.0, std::max(0.0, v)); }

// White for 0, deep blue (#08306b) for 1, mixed linearly in between. A NaN weight means a bug upstream,
// so it is drawn in red where it cannot be missed.
std::string cell_colour(double v) {
    if (std::isnan(v)) return "#e0301e";
    const double t = clamp01(v);
    auto mix = [t](int zero, int one) { return static_cast<int>(std::lround(zero + t * (one - zero))); };
    return fmt::format("#{:02x}{:02x}{:02x}", mix(255, 0x08), mix(255, 0x30), mix(255, 0x6b));
}

constexpr double kCell = 22;           // side of one cell, in pixels
constexpr double kMonoCharWidth = 8;   // width of one 13px monospace character
constexpr double kTitleCharWidth = 8;  // average width of a 14px bold sans-serif character
constexpr double kTitleHeight = 26, kGap = 36, kMargin = 20, kColourBarHeight = 40;
constexpr double kMaxPictureWidth = 1400;  // beyond this the maps wrap onto the next row of the grid

// The size of one map's drawing: its title, the column labels above the cells, the row labels to their left.
struct Panel {
    double label_width = 0;    // room for the row labels
    double header_height = 0;  // room for the column labels
    double width = 0, height = 0;
};

Panel layout(const HeatMap& m) {
    // Widths in terminal columns: a CJK character is drawn about twice as wide as a Latin one in a monospace font.
    int row_chars = 1, col_chars = 0;  // col_chars: the longest column label that must be written upwards
    for (const std::string& l : m.row_labels) row_chars = std::max(row_chars, display_width(visible(l)));
    for (const std::string& l : m.col_labels)
        if (display_width(visible(l)) > 2) col_chars = std::max(col_chars, display_width(visible(l)));
    Panel p;
    p.label_width = 10 + kMonoCharWidth * static_cast<double>(row_chars);
    p.header_height = std::max(20.0, 10 + kMonoCharWidth * static_cast<double>(col_chars));  // room for upward labels
    const double cells_width = p.label_width + kCell * static_cast<double>(m.col_labels.size());
    p.width = std::max(cells_width, kTitleCharWidth * static_cast<double>(display_width(m.title)));
    p.height = kTitleHeight + p.header_height + kCell * static_cast<double>(m.row_labels.size());
    return p;
}

// One map with its top-left corner at (ox, oy).
std::string draw_panel(const HeatMap& m, const Panel& p, double ox, double oy) {
    const size_t rows = m.row_labels.size(), cols = m.col_labels.size();
    const double gx = ox + p.label_width, gy = oy + kTitleHeight + p.header_height;  // top-left of the cells
    std::string svg = fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>\n", px(ox),
                                  px(oy + 16), xml_escape(m.title));
    svg += "<g font-family=\"monospace\" font-size=\"13\" fill=\"#222\">\n";
    for (size_t c = 0; c < cols; ++c) {
        const double x = gx + kCell * (static_cast<double>(c) + 0.5);
        const std::string label = xml_escape(visible(m.col_labels[c]));
        // A label of up to two columns ("9", "10", "年") fits across a cell; a longer one ("<eos>") is turned a
        // quarter left and reads upwards from just above its column.
        if (display_width(visible(m.col_labels[c])) > 2)
            svg += fmt::format("<text transform=\"translate({} {}) rotate(-90)\">{}</text>\n", px(x + 4), px(gy - 6),
                               label);
        else
            svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(x), px(gy - 6), label);
    }
    for (size_t r = 0; r < rows; ++r)
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", px(gx - 6),
                           px(gy + kCell * (static_cast<double>(r) + 0.5) + 4.5), xml_escape(visible(m.row_labels[r])));
    svg += "</g>\n";

    // The cells. Each carries a <title>, which a browser shows as a tooltip: the exact weight on hover.
    for (size_t r = 0; r < rows; ++r)
        for (size_t c = 0; c < cols; ++c) {
            const double v = m.values[r * cols + c];
            svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"white\" "
                               "stroke-width=\"0.5\"><title>{} ← {}: {:.3f}</title></rect>\n",
                               px(gx + kCell * static_cast<double>(c)), px(gy + kCell * static_cast<double>(r)),
                               px(kCell), px(kCell), cell_colour(v), xml_escape(visible(m.row_labels[r])),
                               xml_escape(visible(m.col_labels[c])), v);
        }
    svg += svg_frame(gx, gy, kCell * static_cast<double>(cols), kCell * static_cast<double>(rows), "#999");
    return svg;
}

}  // namespace

void write_heat_map(const std::string& path, const std::vector<HeatMap>& maps) {
    if (maps.empty()) throw std::invalid_argument(fmt::format("write_heat_map {}: no maps to draw", path));
    for (const HeatMap& m : maps) check_size(m);

    // Every map gets a slot of the same size in the grid, big enough for the largest one. About as many
    // columns as rows (4 heads → 2 × 2), fewer if that would make the picture too wide.
    std::vector<Panel> panels;
    double slot_w = 0, slot_h = 0;
    for (const HeatMap& m : maps) {
        panels.push_back(layout(m));
        slot_w = std::max(slot_w, panels.back().width);
        slot_h = std::max(slot_h, panels.back().height);
    }
    const size_t n = maps.size();
    size_t grid_cols = static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(n))));
    while (grid_cols > 1 && static_cast<double>(grid_cols) * (slot_w + kGap) > kMaxPictureWidth) --grid_cols;
    const size_t grid_rows = (n + grid_cols - 1) / grid_cols;
    const double width = std::max(2 * kMargin + static_cast<double>(grid_cols) * (slot_w + kGap) - kGap, 260.0);
    const double height = 2 * kMargin + static_cast<double>(grid_rows) * (slot_h + kGap) - kGap + kColourBarHeight;

    std::string svg = svg_start(width, height);
    for (size_t i = 0; i < n; ++i) {
        const double ox = kMargin + static_cast<double>(i % grid_cols) * (slot_w + kGap);
        const double oy = kMargin + static_cast<double>(i / grid_cols) * (slot_h + kGap);
        svg += draw_panel(maps[i], panels[i], ox, oy);
    }

    // The key: what the shades mean, the same gradient the cells are mixed from.
    const double ky = height - kMargin - 12;
    svg += fmt::format("<defs><linearGradient id=\"weight\"><stop offset=\"0\" stop-color=\"{}\"/>"
                       "<stop offset=\"1\" stop-color=\"{}\"/></linearGradient></defs>\n",
                       cell_colour(0), cell_colour(1));
    svg += fmt::format("<text x=\"{}\" y=\"{}\">attention weight  0</text>\n", px(kMargin), px(ky + 10));
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"120\" height=\"12\" fill=\"url(#weight)\" stroke=\"#999\"/>\n",
                       px(kMargin + 128), px(ky));
    svg += fmt::format("<text x=\"{}\" y=\"{}\">1</text>\n", px(kMargin + 254), px(ky + 10));
    svg += "</svg>\n";
    write_file_atomically(path, svg);
}

std::string heat_map_text(const HeatMap& m, bool color) {
    check_size(m);
    const size_t rows = m.row_labels.size(), cols = m.col_labels.size();
    // Widths are terminal columns, not characters: '年' takes two, as a whole cell does.
    int label_width = 0;
    for (const std::string& l : m.row_labels) label_width = std::max(label_width, display_width(visible(l)));

    // Header: the column labels, each in a two-column slot above its cell.
    std::string out(static_cast<size_t>(label_width) + 1, ' ');
    for (const std::string& l : m.col_labels) out += pad_to_width(prefix_of_width(visible(l), 2), 2);
    out += '\n';

    // The shade blocks cover 0, ¼, ½, ¾ and all of a character cell, so rounding v·4 picks the block whose
    // ink is nearest the weight. 256-colour terminals have 24 greys, codes 232 (near black) to 255 (near white).
    const char* const shades[] = {" ", "░", "▒", "▓", "█"};
    for (size_t r = 0; r < rows; ++r) {
        const std::string label = visible(m.row_labels[r]);
        out += std::string(static_cast<size_t>(label_width - display_width(label)), ' ') + label + ' ';
        for (size_t c = 0; c < cols; ++c) {
            const double v = m.values[r * cols + c];
            if (std::isnan(v)) {
                out += color ? "\x1b[49m??" : "??";  // 49: the terminal's own background
            } else if (color) {
                out += fmt::format("\x1b[48;5;{}m  ", 232 + std::lround(clamp01(v) * 23));
            } else {
                const char* shade = shades[std::lround(clamp01(v) * 4)];
                out += shade;
                out += shade;
            }
        }
        if (color) out += "\x1b[0m";  // back to normal, or the colour would run on into the next line
        out += '\n';
    }
    return out;
}

bool stdout_is_terminal() { return isatty(fileno(stdout)) != 0; }

}  // namespace s2a
