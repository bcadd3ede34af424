// tests/test_figures.cpp — `make figures` in its quick mode: every chapter it runs draws its figures, every
// figure it draws is named in a lesson (docs/*.md), and every figure a lesson embeds is one it draws and is
// committed under docs/figures. The lists come from the lessons and from the run itself, so a lesson can
// neither show a figure no run draws nor leave out one that a chapter draws.
// The chapter programs are the ones built in this test binary's own variant (S2A_BUILD_DIR).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/run_program.h"
#include "tests/util.h"

using s2a::TempDir;
namespace fs = std::filesystem;

namespace {

// The text of every Markdown file in docs/, one after the other.
std::string lessons_text() {
    std::string all;
    for (const auto& entry : fs::directory_iterator("docs")) {
        if (entry.path().extension() != ".md") continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        all += text.str();
    }
    return all;
}

// Every "chN/NAME.svg" the text embeds as an image, ![text](figures/chN/NAME.svg), the image on one line.
std::set<std::string> embedded_figures(const std::string& text) {
    std::set<std::string> found;
    const std::string link = "](figures/";
    for (size_t at = text.find(link); at != std::string::npos; at = text.find(link, at + 1)) {
        const size_t image = text.rfind("![", at), line = text.rfind('\n', at), end = text.find(')', at);
        if (image == std::string::npos || (line != std::string::npos && image < line) || end == std::string::npos) continue;
        found.insert(text.substr(at + link.size(), end - at - link.size()));
    }
    return found;
}

// The file exists and begins like an SVG document.
bool is_svg(const std::string& path) {
    std::ifstream in(path);
    std::string head(256, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    return in.gcount() > 0 && head.find("<svg") != std::string::npos;
}

// Every .svg below folder, as "chN/NAME.svg" (its path relative to folder).
std::set<std::string> svgs_below(const std::string& folder) {
    std::set<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(folder))
        if (entry.path().extension() == ".svg") found.insert(fs::relative(entry.path(), folder).generic_string());
    return found;
}

}  // namespace

TEST_CASE("figures: make figures FIGURES_QUICK=1 draws the lessons' figures; the embedded ones are committed") {
    // The quick runs write into a scratch folder; the parent make's job-server flags are not passed on.
    const TempDir out("figures");
    const Run r = run_command(fmt::format("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory figures "
                                          "FIGURES_QUICK=1 FIGURES_BIN={}/bin FIGURES_OUT={}",
                                          S2A_BUILD_DIR, out.path()));
    INFO("make figures printed:\n", r.output);
    REQUIRE(r.status == 0);
    CHECK(has(r.output, "--seed 1 --quick"));  // the fixed seed, and the quick sizes

    const std::set<std::string> drawn = svgs_below(out.path());
    for (int chapter = 1; chapter <= 5; ++chapter) {  // every training chapter draws at least one figure
        const std::string prefix = fmt::format("ch{}/ch{}_", chapter, chapter);
        CHECK_MESSAGE(std::any_of(drawn.begin(), drawn.end(), [&](const std::string& f) { return f.rfind(prefix, 0) == 0; }),
                      "no figure drawn for chapter ", chapter);
    }

    const std::string lessons = lessons_text();
    for (const std::string& f : drawn)  // "ch3/ch3_heat_maps.svg" is named in a lesson as ch3_heat_maps.svg
        CHECK_MESSAGE(has(lessons, f.substr(f.find('/') + 1)), "no lesson names the figure ", f);

    const std::set<std::string> embedded = embedded_figures(lessons);
    CHECK_FALSE(embedded.empty());
    for (const std::string& f : embedded) {
        CHECK_MESSAGE(drawn.count(f) == 1, "a lesson embeds ", f, ", which make figures does not draw");
        CHECK_MESSAGE(is_svg("docs/figures/" + f), "a lesson embeds ", f, ", which is not committed under docs/figures");
    }
}
