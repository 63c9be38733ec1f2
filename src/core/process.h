// Facts about the running process, for progress lines and benchmark reports.
#pragma once

namespace spir {

// Peak resident set size of this process so far (VmHWM), in MiB; 0 where /proc is unavailable.
double peak_rss_mib();

}  // namespace spir
