// Maze data: the Maze-Hard CSV reader (header source,question,answer,rating; square grids over
// "# SGo": wall, open, start, goal, path), optional 8-fold dihedral augmentation, and a
// generator of perfect mazes (unique path between any two cells) whose label marks the shortest
// start-goal path with 'o', with a minimum path length. Tokens: index in "# SGo" + 1, PAD 0,
// vocab 6; one group per original maze.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trm/data/dataset_writer.hpp"
#include "trm/data/rng.hpp"
#include "trm/data/sudoku.hpp"

namespace trm {

constexpr const char* kMazeCharset = "# SGo";

struct Maze {
  int size = 0;          // size x size cells
  std::string question;  // [size*size] chars of "# SG"
  std::string answer;    // question with the path marked 'o'
};

// Maze-Hard CSV; every row must have the same square width. Errors name file and line.
std::vector<Maze> read_maze_csv(const std::string& path);
// A random perfect maze of size x size with start/goal at BFS distance >= min_path_length
// (steps); throws trm::Error naming the spec when none is found within the attempt budget.
Maze generate_maze(int size, int min_path_length, Rng* rng);
// Shortest-path length in steps from 'S' to 'G' over non-wall cells; -1 when unreachable.
int maze_shortest_path(const std::string& grid, int size);
// Token encoding of a maze string (charset index + 1); throws on other characters.
std::vector<uint8_t> encode_maze(const std::string& s, const std::string& where);

struct MazeConvertOptions {
  std::string train_csv, test_csv;
  int64_t subsample = -1;
  bool aug = false;               // 8 dihedral transforms of each training maze
  int64_t generate = 0;
  int64_t generate_test = 0;
  int size = 30;
  int min_path_length = 0;
  uint64_t seed = 0;
  DatasetWriterOptions writer;
  int threads = 2;
  bool progress = true;
};

SimpleConvertReport convert_maze(const MazeConvertOptions& options);

}  // namespace trm
