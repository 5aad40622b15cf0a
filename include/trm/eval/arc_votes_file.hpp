// arc_votes.json: what the ARC vote decided, per test input, for trm-report and anyone reading
// results without rerunning the model (submission.json keeps only the attempts). Layout (format
// "trm-dist-arc-votes", version 1):
//   {"format": "trm-dist-arc-votes", "format_version": 1, "step": N,
//    "pass_at_k": {"1": f, "2": f, ...},      (empty when no puzzle is scored)
//    "num_scored_puzzles": n, "num_records": n, "num_unmatched_records": n,
//    "puzzles": [{"id": "...", "tests": [{"input": grid, "output": grid | null,
//                 "num_votes": n, "num_candidates": n, "label_rank": r (-1: not predicted),
//                 "top": [{"grid": grid, "votes": n, "mean_q": q}, ...best first]}]}]}
// Grids are lists of rows of colours 0..9 (an empty crop is []); puzzles sorted by id, tests in
// file order, top holds at most ArcVoteOptions::submission_k candidates.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "trm/eval/arc_voting.hpp"

namespace trm {

constexpr const char* kArcVotesFormat = "trm-dist-arc-votes";
constexpr int kArcVotesFormatVersion = 1;

// `test_puzzles` must be the ones voted on (they give the inputs and true outputs).
nlohmann::json arc_votes_json(const ArcVoteResult& result, const ArcTestPuzzles& test_puzzles,
                              int64_t step);

// Written atomically (output_files.hpp). Throws trm::Error naming the path on failure.
void write_arc_votes(const ArcVoteResult& result, const ArcTestPuzzles& test_puzzles, int64_t step,
                     const std::string& path);

}  // namespace trm
