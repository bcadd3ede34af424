// io/plot.h — the pictures the chapters draw themselves: line plots of training curves and heat maps
// of attention weights.
//
// No plotting library: an SVG file is plain text (rectangles, lines, text at pixel coordinates), so a few
// hundred lines of arithmetic are enough, and any web browser opens the result. Heat maps can also be
// printed straight to the terminal, which is where a learner looks first.
//
//   write_line_plot   loss or accuracy against the epoch, one coloured line per series    → .svg
//   write_heat_map    one or more attention matrices side by side (several heads or
//                     several examples)                                                  → .svg
//   heat_map_text     one attention matrix drawn with shade blocks or terminal colours    → string
//
// Files are written to path + ".tmp" and then renamed, so a plot being watched in a browser while the
// model trains is always a complete picture, never half of one.
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace s2a {

// ---------------------------------------------------------------------------------------------------
// Line plots

// One line of a plot: the points (x[i], y[i]). Points where x or y is NaN or infinite are left out and
// the line breaks there, so a diverged run shows as a gap instead of wrecking the scale.
struct Series {
    std::string name;  // shown in the legend
    std::vector<double> x, y;  // the same length
};

struct LinePlot {
    std::string title, x_label, y_label;
    std::vector<Series> series;
    bool y_from_zero = true;  // the y axis includes 0 (a loss of 0.3 looks as small as it is)
    double y_max = NAN;       // top of the y axis; NaN means "from the data". Lines above it are cut off.
};

// Writes the plot as a standalone SVG file of about 720×440 pixels: axes with round tick values, grid
// lines, one coloured line with small markers per series, a legend, the title and the axis labels.
// Throws std::invalid_argument if a series has x and y of different lengths, std::runtime_error (naming
// the path) if the file cannot be written.
void write_line_plot(const std::string& path, const LinePlot& plot);

// ---------------------------------------------------------------------------------------------------
// Attention heat maps

// One attention matrix: row r is what the decoder looked at while producing output character r, column c
// is source character c. Each row of attention weights sums to 1, so every value is in [0, 1].
struct HeatMap {
    std::string title;
    std::vector<std::string> row_labels;  // the output characters, one per row
    std::vector<std::string> col_labels;  // the source characters, one per column
    std::vector<double> values;           // rows × cols, row-major: values[r * cols + c]
};

// Writes all the maps into one SVG file, laid out in a grid, each with its title, its source characters
// along the top and its output characters down the left, in a monospace font. A space is shown as '␣'. The
// file is valid UTF-8 whatever the labels hold (an invalid byte is drawn as '�').
// Cells go from white (0) to deep blue (1), a key at the bottom says so, and hovering over a cell in a
// browser shows its exact weight. A NaN weight (a bug upstream) is drawn red.
// Throws std::invalid_argument (naming the map's title) if rows × cols is not values.size(), or if `maps`
// is empty; std::runtime_error (naming the path) if the file cannot be written.
void write_heat_map(const std::string& path, const std::vector<HeatMap>& maps);

// The map drawn with text: one header line of column labels, then one line per row, each cell two
// characters wide. Without colour a cell is the shade block nearest its value (' ' ░ ▒ ▓ █ for 0, ¼, ½,
// ¾, 1); with colour it is a 256-colour ANSI background on a grey ramp from black (0) to white (1).
// Widths are terminal columns: an East Asian wide character ('年') fills a cell's two, and column labels
// wider than two columns are cut to two; a NaN weight shows as "??". Ends with a newline. Throws std::invalid_argument (naming the map's title) if rows × cols is not values.size().
std::string heat_map_text(const HeatMap& m, bool color);

// True when standard output is a terminal (not a file or a pipe): only then are ANSI colours worth sending.
bool stdout_is_terminal();

}  // namespace s2a
