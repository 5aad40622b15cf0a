// Gathering opaque bytes from every rank to the coordinator (rank 0): the one collective the ARC
// evaluator needs, as a std::function so that the evaluator is testable without MPI and runs over
// any Communicator. Contract: every rank calls it once with its own bytes; rank 0 gets one entry
// per rank in rank order, the other ranks get an empty vector.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace trm {

class Communicator;

using GatherBytesFn =
    std::function<std::vector<std::vector<uint8_t>>(const std::vector<uint8_t>& local)>;

// A world of one: returns {local}.
GatherBytesFn single_process_gather();

// Over `comm` (sizes, then the bytes, with all_gather). `comm` must outlive the function.
GatherBytesFn communicator_gather(Communicator& comm);

}  // namespace trm
