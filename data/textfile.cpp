// data/textfile.cpp — padding examples, and writing and reading the one-example-a-line text format.
#include "data/textfile.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "data/utf8.h"
#include "data/vocab.h"  // is_printable, describe_char

namespace s2a {

namespace {

bool is_blank(const std::string& s) { return s.find_first_not_of(' ') == std::string::npos; }

// What is wrong with one line of the format: `what` ("" if nothing), and the column of the character at
// fault (counted in characters from 1), or 0 when the fault is not one character's.
struct LineProblem {
    int column = 0;
    std::string what;
    // "column 2: what", for a message that names an example rather than a file's line.
    std::string str() const { return column ? fmt::format("column {}: {}", column, what) : what; }
};

// The problem with one line, if any. question_width and answer_width are the first line's (in characters),
// or -1 while the first line itself is checked (it sets the widths for the rest).
LineProblem line_problem(const std::string& line, int question_width, int answer_width) {
    if (line.size() > static_cast<size_t>(kMaxLineBytes))
        return {0, fmt::format("line is longer than {} bytes, the limit", kMaxLineBytes)};
    if (const Utf8Problem bad = utf8_problem(line); bad.column)
        return {bad.column, fmt::format("invalid UTF-8: {}", bad.what)};
    const std::u32string characters = utf8_decode(line);
    for (size_t col = 0; col < characters.size(); ++col)
        if (!is_printable(characters[col]))
            return {static_cast<int>(col + 1), fmt::format("non-printable character ({})", describe_char(characters[col]))};
    const size_t sep = line.find('_');
    if (sep == std::string::npos) return {0, "no '_' between question and answer"};
    const std::string question = line.substr(0, sep);
    const std::string answer = line.substr(sep + 1);
    if (is_blank(question)) return {0, "empty question (only spaces before the '_')"};
    if (is_blank(answer)) return {0, "empty answer (only spaces after the '_')"};
    const int q = static_cast<int>(utf8_length(question)), a = static_cast<int>(utf8_length(answer));
    if (question_width >= 0 && q != question_width)
        return {0, fmt::format("question is {} characters wide, but the first line's is {} "
                               "(pad every question to the same width)",
                               q, question_width)};
    if (answer_width >= 0 && a != answer_width)
        return {0, fmt::format("answer is {} characters wide, but the first line's is {} "
                               "(pad every answer to the same width)",
                               a, answer_width)};
    return {};
}

// Reads the next line into `line`, without its '\n', but stops after kMaxLineBytes + 2 bytes (the limit,
// a '\r', and one byte more): that is enough for line_problem to refuse it, and a 10 MB line is never held
// in memory. False at the end of the file.
bool next_line(std::istream& in, std::string& line) {
    line.clear();
    char c;
    while (in.get(c)) {
        if (c == '\n') return true;
        line += c;
        if (line.size() > static_cast<size_t>(kMaxLineBytes) + 1) return true;
    }
    return !line.empty();
}

}  // namespace

std::string TextData::where(int i) const {
    if (path.empty()) return fmt::format("example {}", i);
    return fmt::format("{}:{}", path, lines[i]);
}

TextData pad(const std::vector<Example>& examples) {
    return pad(examples, max_len(examples, false), max_len(examples, true));
}

TextData pad(const std::vector<Example>& examples, int question_width, int answer_width) {
    // Every example becomes this wide: refuse a width past the limit before allocating n copies of it.
    if (int64_t(question_width) + 1 + answer_width > kMaxLineBytes)
        throw std::invalid_argument(fmt::format("pad: question width {} + '_' + answer width {} is more than {} bytes, "
                                                "the limit of a line",
                                                question_width, answer_width, kMaxLineBytes));
    TextData data;
    data.questions.reserve(examples.size());
    data.answers.reserve(examples.size());
    for (size_t i = 0; i < examples.size(); ++i) {
        const Example& e = examples[i];
        const int q = static_cast<int>(utf8_length(e.question));  // widths count characters, not bytes
        const int a = static_cast<int>(utf8_length(e.answer));
        if (q > question_width || a > answer_width)
            throw std::invalid_argument(fmt::format("pad: example {} (\"{}\" -> \"{}\") is {} -> {} characters wide, "
                                                    "more than {} -> {}",
                                                    i, e.question, e.answer, q, a, question_width, answer_width));
        if (e.question.find('_') != std::string::npos)
            throw std::invalid_argument(fmt::format("pad: example {}: '_' in the question, where it would be "
                                                    "read as the start of the answer",
                                                    i));
        std::string question = e.question + std::string(question_width - q, kPadding);
        std::string answer = '_' + e.answer + std::string(answer_width - a, kPadding);
        // The same checks read_text makes (empty parts, non-printable characters), so what pad makes loads.
        const LineProblem problem = line_problem(question + answer, question_width, answer_width);
        if (!problem.what.empty()) throw std::invalid_argument(fmt::format("pad: example {}: {}", i, problem.str()));
        data.questions.push_back(std::move(question));
        data.answers.push_back(std::move(answer));
    }
    return data;
}

void write_text(const std::string& path, const TextData& data) {
    if (data.questions.size() != data.answers.size())
        throw std::invalid_argument(fmt::format("write_text {}: {} questions but {} answers", path,
                                                data.questions.size(), data.answers.size()));
    if (data.size() == 0) throw std::invalid_argument(fmt::format("write_text {}: no examples to write", path));
    int64_t bytes = 0;  // what the file will hold: every line and its '\n'
    for (int i = 0; i < data.size(); ++i)
        bytes += static_cast<int64_t>(data.questions[i].size() + data.answers[i].size() + 1);
    if (bytes > kMaxTextFileBytes)
        throw std::invalid_argument(fmt::format("write_text {}: {} bytes, more than the limit of a data file "
                                                "({} bytes)",
                                                path, bytes, kMaxTextFileBytes));

    // Check every line as read_text will, so that whatever is written reads back unchanged.
    const int question_width = static_cast<int>(utf8_length(data.questions[0]));
    const int answer_width = static_cast<int>(utf8_length(data.answers[0])) - 1;  // without the '_'
    for (int i = 0; i < data.size(); ++i) {
        const std::string& q = data.questions[i];
        const std::string& a = data.answers[i];
        if (q.find('_') != std::string::npos || a.empty() || a[0] != '_')
            throw std::invalid_argument(fmt::format(
                "write_text {}: example {}: the answer must start with '_' and the question have none", path, i));
        const LineProblem problem = line_problem(q + a, question_width, answer_width);
        if (!problem.what.empty())
            throw std::invalid_argument(fmt::format("write_text {}: example {}: {}", path, i, problem.str()));
    }

    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw std::runtime_error(fmt::format("write_text: cannot open {} for writing", tmp));
    for (int i = 0; i < data.size(); ++i) {
        const std::string line = data.questions[i] + data.answers[i] + '\n';
        out.write(line.data(), static_cast<std::streamsize>(line.size()));
    }
    out.close();
    if (!out) throw std::runtime_error(fmt::format("write_text: error while writing {}", tmp));
    std::filesystem::rename(tmp, path);  // replaces an old file in one step
}

TextData read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (!std::filesystem::exists(path)) throw std::runtime_error(fmt::format("{}: no such file", path));
        throw std::runtime_error(fmt::format("{}: cannot open for reading", path));
    }
    // A pipe has no size to check; its lines are still held to kMaxLineBytes.
    std::error_code no_size;
    const uintmax_t bytes = std::filesystem::file_size(path, no_size);
    if (!no_size && bytes > static_cast<uintmax_t>(kMaxTextFileBytes))
        throw std::runtime_error(fmt::format("{}: {} bytes, more than the limit of a data file ({} bytes)", path, bytes,
                                             kMaxTextFileBytes));
    return read_text(in, path);
}

TextData read_text(std::istream& in, const std::string& path) {
    TextData data;
    data.path = path;
    int question_width = -1, answer_width = -1;  // set by the first example
    int line_no = 0;
    int first_blank = 0;  // the first of the blank lines since the last example, 0 if none
    std::string line;
    // next_line never returns the empty piece after a final '\n', so a file may end with or without one.
    // Blank lines are set aside: at the end of the file they are harmless, before an example an error.
    while (next_line(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();  // a Windows line ending
        // (A line of spaces past the limit is not blank but too long: the rest of it was never read.)
        if (is_blank(line) && line.size() <= static_cast<size_t>(kMaxLineBytes)) {
            if (first_blank == 0) first_blank = line_no;
            continue;
        }
        if (first_blank != 0)
            throw std::runtime_error(
                fmt::format("{}:{}: blank line between examples (only the end of the file may have blank lines)", path,
                            first_blank));
        const LineProblem problem = line_problem(line, question_width, answer_width);
        if (!problem.what.empty()) {
            const std::string column = problem.column ? fmt::format(":{}", problem.column) : "";
            throw std::runtime_error(fmt::format("{}:{}{}: {}", path, line_no, column, problem.what));
        }
        const size_t sep = line.find('_');
        if (question_width < 0) {
            question_width = static_cast<int>(utf8_length(line.substr(0, sep)));
            answer_width = static_cast<int>(utf8_length(line.substr(sep + 1)));
        }
        data.questions.push_back(line.substr(0, sep));
        data.answers.push_back(line.substr(sep));  // keeps the '_': the decoder's start symbol
        data.lines.push_back(line_no);
    }
    if (in.bad()) throw std::runtime_error(fmt::format("{}:{}: read error", path, line_no + 1));
    if (data.size() == 0)
        throw std::runtime_error(fmt::format("{}:1: {}", path, line_no == 0 ? "empty file, no examples"
                                                                            : "no examples, only blank lines"));
    return data;
}

}  // namespace s2a
