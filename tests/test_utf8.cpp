// tests/test_utf8.cpp — tests of UTF-8 throughout: the codec (data/utf8.h), display widths, the vocabulary
// over code points, and the pictures (io/plot.h) with Chinese labels.
//
// The codec is checked against bytes written out by hand from the UTF-8 table, over every code point in both
// directions, and on each kind of invalid input it must refuse.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/textfile.h"
#include "data/utf8.h"
#include "data/vocab.h"
#include "io/plot.h"
#include "tests/run_program.h"
#include "tests/util.h"

using namespace s2a;

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// The lines of `text`, without their '\n'.
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace

// ---------------------------------------------------------------- the codec

TEST_CASE("utf8: each length of the table, at its first and last code point") {
    const std::vector<std::pair<char32_t, std::string>> cases = {
        {U'A', "A"},           {0x7F, "\x7f"},                 // one byte
        {0x80, "\xc2\x80"},    {U'é', "\xc3\xa9"},             // two
        {0x7FF, "\xdf\xbf"},   {0x800, "\xe0\xa0\x80"},        //
        {U'年', "\xe5\xb9\xb4"}, {0xFFFF, "\xef\xbf\xbf"},      // three
        {0x10000, "\xf0\x90\x80\x80"}, {0x10FFFF, "\xf4\x8f\xbf\xbf"},  // four
    };
    for (const auto& [c, bytes] : cases) {
        CAPTURE(static_cast<uint32_t>(c));
        CHECK(utf8_encode(c) == bytes);
        CHECK(utf8_decode(bytes) == std::u32string(1, c));
        CHECK(utf8_length(bytes) == 1);
    }
    CHECK(utf8_decode("1994年9月") == U"1994年9月");
    CHECK(utf8_encode(U"九四年") == "九四年");
    CHECK(utf8_length("九四年_1994") == 8);
}

TEST_CASE("utf8: every code point survives encode then decode") {
    int failures = 0;
    for (char32_t c = 0; c <= 0x10FFFF; ++c) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;  // surrogates are not characters
        const std::string bytes = utf8_encode(c);
        const size_t expected = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        failures += bytes.size() != expected || utf8_decode(bytes) != std::u32string(1, c);
    }
    CHECK(failures == 0);
    CHECK_THROWS_AS(utf8_encode(0xD800), std::invalid_argument);
    CHECK_THROWS_AS(utf8_encode(0xDFFF), std::invalid_argument);
    CHECK_THROWS_AS(utf8_encode(0x110000), std::invalid_argument);
}

TEST_CASE("utf8: invalid UTF-8 is refused with the column and the reason") {
    struct Bad {
        std::string bytes;
        int column;
        const char* what;
    };
    const std::vector<Bad> cases = {
        {"\x80", 1, "no character started"},                    // a continuation byte alone
        {"年\xb4", 2, "no character started"},
        {"ab\xc3", 3, "cut short"},                              // truncated at the end
        {"\xe5\xb9x", 1, "cut short"},                           // truncated before another character
        {"\xf0\x9f\x98", 1, "cut short"},
        {"\xc0\xaf", 1, "overlong encoding of U+002F"},          // '/' in two bytes
        {"\xc1\xbf", 1, "overlong"},
        {"\xe0\x80\xaf", 1, "overlong"},
        {"\xf0\x80\x80\xaf", 1, "overlong"},
        {"\xed\xa0\x80", 1, "U+D800, a UTF-16 surrogate"},       // surrogates
        {"x\xed\xbf\xbf", 2, "surrogate"},
        {"\xf4\x90\x80\x80", 1, "U+110000, beyond U+10FFFF"},    // past the last code point
        {"\xf7\xbf\xbf\xbf", 1, "beyond U+10FFFF"},
        {"\xf8\x88\x80\x80\x80", 1, "never occurs"},             // five-byte forms were never UTF-8
        {"\xff", 1, "never occurs"},
    };
    for (const Bad& b : cases) {
        CAPTURE(b.bytes);
        const Utf8Problem p = utf8_problem(b.bytes);
        CHECK(p.column == b.column);
        CHECK(contains(p.what, b.what));
        const std::string msg = error_of([&] { utf8_decode(b.bytes); });
        CHECK(contains(msg, fmt::format("invalid UTF-8 in column {}", b.column)));
        CHECK(contains(msg, b.what));
    }
    CHECK(utf8_problem("一九九四年 ok").column == 0);
}

// ---------------------------------------------------------------- widths on a terminal

TEST_CASE("utf8: display widths count East Asian wide characters twice") {
    CHECK(display_width(U'a') == 1);
    CHECK(display_width(U'é') == 1);
    CHECK(display_width(U'␣') == 1);
    for (char32_t wide : {U'年', U'〇', U'，', U'（', U'가', U'の'}) CHECK(display_width(wide) == 2);
    CHECK(display_width("1994年9月27日") == 13);
    CHECK(display_width("\xff") == 1);  // an invalid byte is shown as one mark
    CHECK(prefix_of_width("年月日", 3) == "年");
    CHECK(prefix_of_width("a年", 2) == "a");
    CHECK(prefix_of_width("ab", 5) == "ab");
    CHECK(pad_to_width("年", 4) == "年  ");
    CHECK(pad_to_width("年月日", 4) == "年月日");
    // fmt pads by the same widths, so tables printed with fmt ({:<8}) line up with ours.
    for (const char* text : {"九四年", "1994年9月27日", "ab", "é"})
        CHECK(fmt::format("{:<16}", text) == pad_to_width(text, 16));
}

// ---------------------------------------------------------------- the vocabulary over code points

TEST_CASE("utf8: the vocabulary holds any printable character, ids in code-point order") {
    const Vocab v = Vocab::from_texts({"九四年九月二十七号", "_1994-09-27"});
    CHECK(v.chars() == "-012479_七九二十号四年月");  // ASCII first; then U+4E03 七, U+4E5D 九, …
    CHECK(v.size() == 16);
    CHECK(v.id('-') == 0);
    CHECK(v.id(U'七') == 8);
    CHECK(v.ch(15) == "月");
    CHECK(v.decode(v.encode("九月_27")) == "九月_27");
    CHECK(v.encode("九月") == std::vector<int>{9, 15});
    const std::string unknown = error_of([&] { v.encode("九日"); });
    CHECK(contains(unknown, "'日' (U+65E5)"));
    CHECK(contains(unknown, "\"九日\""));
    CHECK(contains(error_of([&] { v.encode("九\xe5\xb9"); }), "invalid UTF-8 in column 2"));
    CHECK(contains(error_of([] { Vocab::from_texts({"ok\xc0\xaf"}); }), "overlong"));
    CHECK(contains(error_of([] { Vocab::from_texts({"C1 control \xc2\x85"}); }), "non-printable character (code 133)"));
    CHECK_FALSE(v.contains(U'日'));
}

// ---------------------------------------------------------------- the text format in characters

TEST_CASE("utf8: the text format counts characters, not bytes or columns") {
    const TempDir tmp("utf8_text");
    // README.zh-CN.md's example: both questions are 10 characters (9 ideographs and a space; 7 digits and
    // 3 ideographs), though the first is 28 bytes and 19 columns, the second 16 bytes and 13 columns.
    const TextData t = read_text(tmp.write("zh.txt", "九四年九月二十七号 _1994-09-27\n1994年9月27日_1994-09-27\n"));
    REQUIRE(t.size() == 2);
    CHECK(t.questions[1] == "1994年9月27日");
    const Vocab vocab = make_vocab(t);
    CHECK(Batcher(t, vocab, 2, false).source_len() == 10);
    const std::string path = tmp.write("bad.txt", "九四年_1\n1994_1\n");
    CHECK(contains(error_of([&] { read_text(path); }), path + ":2: question is 4 characters wide, but the first line's is 3"));
}

// ---------------------------------------------------------------- pictures with Chinese labels

TEST_CASE("utf8: terminal heat maps line up wide characters") {
    const HeatMap m{"九月 → 09", {"0", "9"}, {"九", "月", " ", "<eos>"}, {1, 0, 0, 0, 0, 0.5, 0.5, 0}};
    for (bool color : {false, true}) {
        const std::vector<std::string> lines = lines_of(heat_map_text(m, color));
        REQUIRE(lines.size() == 3);
        CHECK(lines[0] == "  九月␣ <e");  // each label in a two-column slot; a longer one cut to two columns
        if (!color) {
            CHECK(display_width(lines[1]) == display_width(lines[0]));
            CHECK(lines[1] == "0 ██      ");
        }
    }
}

TEST_CASE("utf8: the SVG heat map is valid UTF-8 and holds the characters") {
    const TempDir dir("utf8_svg");
    const std::string path = dir.file("maps.svg");
    const HeatMap m{"\"九四年九月二十七号\" → 1994-09-27 & <more>", {"1", "9"}, {"号", "七", "bad\xe5\xb9"}, {1, 0, 0, 0, 1, 0}};
    write_heat_map(path, {m});
    const std::string svg = read_all(path);
    CHECK(utf8_problem(svg).column == 0);  // the invalid label was replaced, not copied
    CHECK(contains(svg, ">号</text>"));
    CHECK(contains(svg, "九四年九月二十七号"));
    CHECK(contains(svg, "&amp; &lt;more&gt;"));
    CHECK(contains(svg, "bad\uFFFD"));
}

TEST_CASE("utf8: chapter 3 trains on the Chinese dates and draws them") {
    const TempDir out("utf8_ch3");
    const s2a_test::Run r = s2a_test::check_run("ch3", "--quick --task zh-dates --out " + out.path(), 0,
                                                {"exact match", "(source read reversed"});
    // The terminal heat map labels its columns with the question's characters, reversed: the date ends in 日 or 号…
    CHECK((s2a_test::has(r.output, "日") || s2a_test::has(r.output, "号")));
    const std::string svg = read_all(out.file("ch3_heat_maps.svg"));
    CHECK(utf8_problem(svg).column == 0);
    CHECK(contains(svg, ">年</text>"));  // …and every question has 年, drawn as a column label in the SVG
    s2a_test::check_run("ch3", "--quick --task klingon --out " + out.path(), 1, {"klingon", "zh-dates"});
    s2a_test::check_run("ch3", "--help", 0, {"zh-dates"});
}

TEST_CASE("utf8: chapter 5 draws every head over the Chinese dates") {
    const TempDir out("utf8_ch5");
    s2a_test::check_run("ch5", "--quick --task zh-dates --out " + out.path(), 0, {"cross, layer 2 head 4", "chapter-3 LSTM"});
    const std::string svg = read_all(out.file("ch5_date_heads.svg"));
    CHECK(utf8_problem(svg).column == 0);
    CHECK(contains(svg, ">年</text>"));  // one character a label, never a byte of one
}
