// libFuzzer target: the Sudoku-Extreme and Maze-Hard CSV readers, both on the same file. What
// they accept must hold what their headers promise (81-cell boards over 0..9, square mazes over
// "# SGo" with equal question/answer sizes).
#include <cstdint>
#include <string>

#include "fuzz_util.hpp"
#include "trm/data/maze.hpp"
#include "trm/data/sudoku.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = trm_fuzz::write_file("rows.csv", data, size);
  trm_fuzz::accepts([&] {
    for (const trm::SudokuPuzzle& p : trm::read_sudoku_csv(path, size % 2 == 0 ? -1 : 3)) {
      if (p.question.size() != 81 || p.answer.size() != 81) trm_fuzz::finding("sudoku size", path.c_str());
      for (int i = 0; i < 81; ++i) {
        if (p.question[i] > 9 || p.answer[i] < 1 || p.answer[i] > 9) trm_fuzz::finding("sudoku digit", path.c_str());
      }
    }
  });
  trm_fuzz::accepts([&] {
    for (const trm::Maze& m : trm::read_maze_csv(path)) {
      const size_t cells = static_cast<size_t>(m.size) * m.size;
      if (m.size <= 0 || m.question.size() != cells || m.answer.size() != cells) {
        trm_fuzz::finding("maze shape", path.c_str());
      }
      if (m.question.find_first_not_of(trm::kMazeCharset) != std::string::npos ||
          m.answer.find_first_not_of(trm::kMazeCharset) != std::string::npos) {
        trm_fuzz::finding("maze character", path.c_str());
      }
    }
  });
  return 0;
}
