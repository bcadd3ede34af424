// exercises/main.cpp — the grading program of one exercise: `make exercise EX=<name>` builds and runs it.
//   exercise_<name>             the full report: every case, per input the worst element, the hints
//   exercise_<name> --summary   one row for the table of `make exercises`
// Exit status: 0 pass, 1 fail, 2 a usage error.
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "exercises/exercise.h"

int main(int argc, char** argv) {
    const bool summary = argc == 2 && std::string(argv[1]) == "--summary";
    if (argc > 2 || (argc == 2 && !summary)) {
        fmt::print(stderr, "usage: {} [--summary]\n", argv[0]);
        return 2;
    }
    const s2a::exercise::Grade g = s2a::exercise::grade(s2a::exercise::the_exercise());
    fmt::print("{}", summary ? g.row : g.report);
    return g.pass ? 0 : 1;
}
