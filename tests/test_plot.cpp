// tests/test_plot.cpp — the hand-drawn pictures: SVG line plots, SVG heat maps, heat maps as terminal text.
//
// An SVG is checked as text: it is complete (starts with <svg, ends with </svg>), carries every title and
// name with XML's special characters escaped, has round tick values and no "nan" coordinate, and was
// written atomically (no .tmp file left behind).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/plot.h"
#include "tests/util.h"

using namespace s2a;
namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

size_t count(const std::string& text, const std::string& part) {
    size_t n = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
    return n;
}

// The file is one complete <svg> element: it starts with "<svg" and, past the final newline, ends with "</svg>".
void check_complete_svg(const std::string& svg) {
    CHECK(svg.rfind("<svg", 0) == 0);
    std::string end = svg;
    while (!end.empty() && (end.back() == '\n' || end.back() == ' ')) end.pop_back();
    CHECK(end.size() >= 6);
    CHECK(end.substr(end.size() - 6) == "</svg>");
    CHECK(count(svg, "<svg") == 1);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::string line;
    for (char c : text) {
        if (c == '\n') {
            lines.push_back(line);
            line.clear();
        } else {
            line += c;
        }
    }
    CHECK(line.empty());  // the text ends with a newline
    return lines;
}

}  // namespace

TEST_CASE("plot: a line plot is a complete SVG with its title, names and labels, escaped") {
    TempDir dir("plot_line");
    LinePlot plot;
    plot.title = "loss <ch1> & accuracy";
    plot.x_label = "epoch";
    plot.y_label = "cross-entropy";
    for (int e = 1; e <= 50; ++e) {
        plot.series.resize(2);
        plot.series[0].x.push_back(e);
        plot.series[0].y.push_back(1.0 / e);
        plot.series[1].x.push_back(e);
        plot.series[1].y.push_back(1.2 / e + 0.05);
    }
    plot.series[0].name = "train";
    plot.series[1].name = "dev <held out> & \"quoted\"";
    const std::string path = dir.file("loss.svg");
    write_line_plot(path, plot);

    const std::string svg = read_all(path);
    check_complete_svg(svg);
    CHECK(contains(svg, "loss &lt;ch1&gt; &amp; accuracy"));
    CHECK(contains(svg, ">train<"));
    CHECK(contains(svg, "dev &lt;held out&gt; &amp; &quot;quoted&quot;"));
    CHECK(!contains(svg, "<ch1>"));
    CHECK(!contains(svg, "<held out>"));
    CHECK(contains(svg, ">epoch<"));
    CHECK(contains(svg, ">cross-entropy<"));
    CHECK(count(svg, "<polyline") == 2);  // one line per series, no NaN to break them
    // Round tick values: x from 1 to 50 gets 0, 10, …, 50; y from 0 to 1.25 gets steps of 0.2.
    CHECK(contains(svg, ">10</text>"));
    CHECK(contains(svg, ">50</text>"));
    CHECK(contains(svg, ">0.0</text>"));
    CHECK(contains(svg, ">0.4</text>"));
    CHECK(contains(svg, ">1.4</text>"));
    CHECK(!fs::exists(path + ".tmp"));

    // Writing again replaces the file, still leaving no temporary behind.
    plot.title = "second";
    write_line_plot(path, plot);
    CHECK(contains(read_all(path), ">second<"));
    CHECK(!fs::exists(path + ".tmp"));
}

TEST_CASE("plot: NaN values, empty series, a single point and no series at all are drawn without trouble") {
    TempDir dir("plot_odd");
    LinePlot plot;
    plot.title = "odd data";
    plot.series.push_back({"with gap", {1, 2, 3, 4, 5}, {0.5, 0.4, NAN, 0.3, 0.2}});
    plot.series.push_back({"empty", {}, {}});
    plot.series.push_back({"one point", {3}, {0.7}});
    plot.series.push_back({"all missing", {1, 2}, {NAN, INFINITY}});
    const std::string path = dir.file("odd.svg");
    write_line_plot(path, plot);
    std::string svg = read_all(path);
    check_complete_svg(svg);
    for (const Series& s : plot.series) CHECK(contains(svg, ">" + s.name + "<"));
    CHECK(count(svg, "<polyline") == 2);  // the NaN splits "with gap" into two lines; the others have none
    CHECK(!contains(svg, "nan"));
    CHECK(!contains(svg, "inf"));

    // Every value equal, and a fixed top below all the data: the axes still get a length.
    plot.series = {{"flat", {1, 2, 3}, {2, 2, 2}}};
    plot.y_from_zero = false;
    write_line_plot(path, plot);
    svg = read_all(path);
    check_complete_svg(svg);
    CHECK(!contains(svg, "nan"));
    plot.y_max = 1;
    write_line_plot(path, plot);
    check_complete_svg(read_all(path));

    plot.series.clear();
    write_line_plot(path, plot);
    svg = read_all(path);
    check_complete_svg(svg);
    CHECK(contains(svg, ">odd data<"));
    CHECK(!fs::exists(path + ".tmp"));
}

TEST_CASE("plot: a fixed y_max ends the axis there") {
    TempDir dir("plot_ymax");
    LinePlot plot;
    plot.title = "accuracy";
    plot.y_max = 1;
    plot.series.push_back({"dev", {1, 2, 3}, {0.1, 0.55, 0.93}});
    const std::string path = dir.file("acc.svg");
    write_line_plot(path, plot);
    const std::string svg = read_all(path);
    CHECK(contains(svg, ">1.0</text>"));
    CHECK(!contains(svg, ">1.2</text>"));
}

TEST_CASE("plot: a series with x and y of different lengths is refused") {
    TempDir dir("plot_mismatch");
    LinePlot plot;
    plot.series.push_back({"lopsided", {1, 2, 3}, {1, 2}});
    const std::string path = dir.file("bad.svg");
    CHECK_THROWS_AS(write_line_plot(path, plot), std::invalid_argument);
    CHECK(!fs::exists(path));
}

TEST_CASE("plot: writing into a directory that does not exist throws, naming the path") {
    TempDir dir("plot_missing");
    const std::string path = dir.file("no/such/dir/loss.svg");
    LinePlot plot;
    plot.series.push_back({"train", {1, 2}, {1, 0.5}});
    try {
        write_line_plot(path, plot);
        FAIL("write_line_plot into a missing directory did not throw");
    } catch (const std::runtime_error& e) {
        CHECK(contains(e.what(), path));
    }
    HeatMap m{"map", {"a"}, {"b"}, {1.0}};
    try {
        write_heat_map(path, {m});
        FAIL("write_heat_map into a missing directory did not throw");
    } catch (const std::runtime_error& e) {
        CHECK(contains(e.what(), path));
    }
}

TEST_CASE("plot: heat maps are written as one SVG with every title and label, a space shown as ␣") {
    TempDir dir("plot_heat");
    HeatMap a{"head 1: <dot>", {"9", "1", " "}, {"1", "6", "+", "7", "5", " "}, {}};
    HeatMap b{"head 2 & more", {"x", "y"}, {"<eos>", "a"}, {0.3, 0.7, 1.0, 0.0}};
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 6; ++c) a.values.push_back(r == c ? 1.0 : 0.0);
    const std::string path = dir.file("attention.svg");
    write_heat_map(path, {a, b, a});

    const std::string svg = read_all(path);
    check_complete_svg(svg);
    CHECK(contains(svg, "head 1: &lt;dot&gt;"));
    CHECK(contains(svg, "head 2 &amp; more"));
    CHECK(contains(svg, "&lt;eos&gt;"));
    CHECK(contains(svg, ">␣<"));
    CHECK(contains(svg, "monospace"));
    CHECK(count(svg, "<rect") >= 2 * (3 * 6) + 2 * 2);  // a square per cell
    CHECK(!fs::exists(path + ".tmp"));
}

TEST_CASE("plot: heat maps whose values do not fill rows × cols are refused, naming the map") {
    TempDir dir("plot_heat_bad");
    const HeatMap good{"fine", {"a"}, {"b"}, {0.5}};
    const HeatMap bad{"broken map", {"a", "b"}, {"x", "y", "z"}, {0.1, 0.2, 0.3}};
    const std::string path = dir.file("bad.svg");
    try {
        write_heat_map(path, {good, bad});
        FAIL("write_heat_map accepted 3 values for a 2 × 3 map");
    } catch (const std::invalid_argument& e) {
        CHECK(contains(e.what(), "broken map"));
    }
    CHECK(!fs::exists(path));
    CHECK_THROWS_AS(heat_map_text(bad, false), std::invalid_argument);
    CHECK_THROWS_AS(write_heat_map(path, {}), std::invalid_argument);
}

TEST_CASE("plot: a heat map as text has a header and one line per row, drawn with shade blocks") {
    const HeatMap m{"copy", {"a", "bb", " "}, {"x", " ", "<eos>"}, {0, 0.5, 1, 1, 0.25, 0, 0.75, 0, 0.02}};
    const std::string text = heat_map_text(m, false);
    const std::vector<std::string> lines = lines_of(text);
    REQUIRE(lines.size() == 4);  // the header, then the three rows
    CHECK(lines[0] == "   x ␣ <e");    // row labels are 2 wide; column labels in 2-character slots
    CHECK(lines[1] == " a   ▒▒██");    // 0 is blank, ½ is ▒, 1 the darkest block
    CHECK(lines[2] == "bb ██░░  ");
    CHECK(lines[3] == " ␣ ▓▓    ");    // 0.02 rounds to blank
    CHECK(contains(text, "█"));
    CHECK(!contains(text, "\x1b["));
}

TEST_CASE("plot: a heat map in colour uses 256-colour backgrounds and resets them at each line's end") {
    const HeatMap m{"copy", {"a", "b"}, {"x", "y"}, {0, 1, 1, 0}};
    const std::string text = heat_map_text(m, true);
    const std::vector<std::string> lines = lines_of(text);
    REQUIRE(lines.size() == 3);
    CHECK(contains(lines[1], "\x1b[48;5;232m  \x1b[48;5;255m  \x1b[0m"));  // 0 → darkest grey, 1 → lightest
    CHECK(contains(lines[2], "\x1b[48;5;255m  \x1b[48;5;232m  \x1b[0m"));
    CHECK(!contains(text, "█"));
}
