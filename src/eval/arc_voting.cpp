// vote_arc_predictions (see arc_voting.hpp). Steps:
//   1. order the records by (example_index, puzzle name, input hash, grid, q) so that sums and
//      first-seen positions are the same whatever the number of ranks or the gather order;
//   2. route each record to the test inputs of its puzzle whose de-augmented input hash matches
//      (all of them when a puzzle repeats a test input, as the reference's dict lookup does);
//   3. per test input, rank the distinct grids by (votes desc, mean q desc, first position asc);
//   4. score pass@K per puzzle and average.
#include "trm/eval/arc_voting.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include "trm/common/error.hpp"

namespace trm {
namespace {

bool grid_less(const Grid& a, const Grid& b) {
  return std::tie(a.rows, a.cols, a.cells) < std::tie(b.rows, b.cols, b.cells);
}

struct Tally {
  int64_t votes = 0;
  double q_sum = 0.0;
  size_t first_position = 0;  // position of the first vote in the canonical record order
};

}  // namespace

std::map<std::string, double> ArcVoteResult::metrics() const {
  std::map<std::string, double> out;
  if (num_scored_puzzles == 0) return out;
  for (size_t i = 0; i < pass_ks.size(); ++i) {
    out["ARC/pass@" + std::to_string(pass_ks[i])] = pass_at_k[i];
  }
  return out;
}

ArcVoteResult vote_arc_predictions(const ArcPredictionSet& predictions,
                                   const ArcTestPuzzles& test_puzzles,
                                   const ArcVoteOptions& options) {
  TRM_CHECK(options.submission_k >= 1, "submission_k is " << options.submission_k,
            "a submission needs at least one attempt per test input");
  for (int k : options.pass_ks) {
    TRM_CHECK(k >= 1, "pass@K with K = " << k, "K counts attempts and starts at 1");
  }
  const auto& records = predictions.records();
  const auto& grids = predictions.grids();
  const auto& names = predictions.puzzle_names();

  // 1. Canonical order.
  std::vector<size_t> order(records.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t ia, size_t ib) {
    const auto& a = records[ia];
    const auto& b = records[ib];
    if (a.example_index != b.example_index) return a.example_index < b.example_index;
    if (names[a.puzzle] != names[b.puzzle]) return names[a.puzzle] < names[b.puzzle];
    if (a.input_hash != b.input_hash) return a.input_hash < b.input_hash;
    if (a.grid != b.grid) return grid_less(grids[a.grid], grids[b.grid]);
    return a.q < b.q;
  });

  // 2. Route records: puzzle index in the prediction set -> (position in result, input hashes).
  ArcVoteResult result;
  result.pass_ks = options.pass_ks;
  result.num_records = static_cast<int64_t>(records.size());
  result.puzzles.reserve(test_puzzles.size());
  std::unordered_map<std::string, size_t> puzzle_slot;
  std::vector<std::vector<uint64_t>> input_hashes;
  for (const auto& [id, pairs] : test_puzzles) {
    puzzle_slot.emplace(id, result.puzzles.size());
    ArcPuzzleVotes pv;
    pv.id = id;
    pv.tests.resize(pairs.size());
    std::vector<uint64_t> hashes;
    for (size_t t = 0; t < pairs.size(); ++t) {
      hashes.push_back(grid_hash(pairs[t].input));
      pv.tests[t].has_label = pairs[t].has_output;
    }
    input_hashes.push_back(std::move(hashes));
    result.puzzles.push_back(std::move(pv));
  }
  std::vector<long> slot_of_name(names.size(), -1);
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = puzzle_slot.find(names[i]);
    if (it != puzzle_slot.end()) slot_of_name[i] = static_cast<long>(it->second);
  }

  // tallies[slot][test]: grid index -> tally
  std::vector<std::vector<std::unordered_map<uint32_t, Tally>>> tallies(result.puzzles.size());
  for (size_t s = 0; s < result.puzzles.size(); ++s) {
    tallies[s].resize(result.puzzles[s].tests.size());
  }
  for (size_t pos = 0; pos < order.size(); ++pos) {
    const auto& rec = records[order[pos]];
    const long slot = slot_of_name[rec.puzzle];
    bool matched = false;
    if (slot >= 0) {
      const auto& hashes = input_hashes[slot];
      for (size_t t = 0; t < hashes.size(); ++t) {
        if (hashes[t] != rec.input_hash) continue;
        matched = true;
        auto [it, inserted] = tallies[slot][t].try_emplace(rec.grid);
        if (inserted) it->second.first_position = pos;
        it->second.votes += 1;
        it->second.q_sum += rec.q;
      }
    }
    if (!matched) ++result.num_unmatched_records;
  }

  // 3. Rank, 4. score.
  std::vector<double> pass_sum(options.pass_ks.size(), 0.0);
  for (size_t s = 0; s < result.puzzles.size(); ++s) {
    auto& pv = result.puzzles[s];
    const auto& pairs = test_puzzles.at(pv.id);
    bool scored = !pairs.empty();
    bool missing = false;
    std::vector<int64_t> solved(options.pass_ks.size(), 0);
    for (size_t t = 0; t < pv.tests.size(); ++t) {
      auto& tv = pv.tests[t];
      struct Ranked {
        uint32_t grid;
        Tally tally;
        double mean_q;
      };
      std::vector<Ranked> ranked;
      ranked.reserve(tallies[s][t].size());
      for (const auto& [grid, tally] : tallies[s][t]) {
        ranked.push_back({grid, tally, tally.q_sum / static_cast<double>(tally.votes)});
        tv.num_votes += tally.votes;
      }
      std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
        if (a.tally.votes != b.tally.votes) return a.tally.votes > b.tally.votes;
        if (a.mean_q != b.mean_q) return a.mean_q > b.mean_q;
        return a.tally.first_position < b.tally.first_position;
      });
      tv.num_candidates = static_cast<int64_t>(ranked.size());
      if (ranked.empty()) missing = true;
      for (size_t r = 0; r < ranked.size(); ++r) {
        if (r < static_cast<size_t>(options.submission_k)) {
          tv.top.push_back({grids[ranked[r].grid], ranked[r].tally.votes, ranked[r].mean_q});
        }
        if (tv.has_label && tv.label_rank < 0 && grids[ranked[r].grid] == pairs[t].output) {
          tv.label_rank = static_cast<int64_t>(r);
        }
      }
      if (!tv.has_label) scored = false;
      for (size_t i = 0; i < options.pass_ks.size(); ++i) {
        if (tv.label_rank >= 0 && tv.label_rank < options.pass_ks[i]) ++solved[i];
      }
    }
    if (missing) result.puzzles_without_predictions.push_back(pv.id);
    if (!scored) continue;
    ++result.num_scored_puzzles;
    for (size_t i = 0; i < options.pass_ks.size(); ++i) {
      pass_sum[i] += static_cast<double>(solved[i]) / static_cast<double>(pv.tests.size());
    }
  }
  result.pass_at_k.resize(options.pass_ks.size(), 0.0);
  if (result.num_scored_puzzles > 0) {
    for (size_t i = 0; i < pass_sum.size(); ++i) {
      result.pass_at_k[i] = pass_sum[i] / static_cast<double>(result.num_scored_puzzles);
    }
  }
  return result;
}

}  // namespace trm
