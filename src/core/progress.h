// Progress lines for long work: logged at most once a second, with rate and, when the total is known, percent.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace spir {

class Progress {
 public:
  // total <= 0 means unknown. unit names what is counted ("lines", "MB").
  Progress(std::string label, int64_t total, std::string unit);
  void update(int64_t done);   // cheap; logs when a second has passed since the last line
  void finish(int64_t done);   // logs the final line with elapsed time
  double elapsed_s() const;

 private:
  void print(int64_t done, bool final);
  std::string label_, unit_;
  int64_t total_;
  std::chrono::steady_clock::time_point start_, last_;
  uint32_t calls_ = 0;
};

// Debug-level timings of the phases of one pass (with the peak RSS so far): each lap(phase) logs the seconds since
// the previous lap, or since construction. Costs nothing measurable when debug logging is off.
class PhaseTimer {
 public:
  explicit PhaseTimer(std::string label);
  void lap(const char* phase);

 private:
  std::string label_;
  bool on_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace spir
