#include "core/progress.h"

#include "core/process.h"

#include <spdlog/spdlog.h>

namespace spir {

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(int64_t done) {
  if ((++calls_ & 1023) != 0) return;  // check the clock rarely
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::seconds(1)) return;
  last_ = now;
  print(done, false);
}

void Progress::finish(int64_t done) { print(done, true); }

void Progress::print(int64_t done, bool final) {
  const double s = elapsed_s();
  const double rate = s > 0 ? done / s : 0;
  if (total_ > 0 && !final)
    spdlog::info("{}: {}/{} {} ({:.0f}%, {:.0f} {}/s)", label_, done, total_, unit_, 100.0 * done / total_, rate, unit_);
  else
    spdlog::info("{}: {} {} in {:.1f} s ({:.0f} {}/s){}", label_, done, unit_, s, rate, unit_, final ? ", done" : "");
}

PhaseTimer::PhaseTimer(std::string label)
    : label_(std::move(label)), on_(spdlog::should_log(spdlog::level::debug)), last_(std::chrono::steady_clock::now()) {}

void PhaseTimer::lap(const char* phase) {
  if (!on_) return;
  const auto now = std::chrono::steady_clock::now();
  spdlog::debug("{}: {} {:.2f} s, peak RSS {:.0f} MiB", label_, phase, std::chrono::duration<double>(now - last_).count(),
                peak_rss_mib());
  last_ = now;
}

}  // namespace spir
