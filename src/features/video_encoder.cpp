#include "features/video_encoder.h"

#include "core/error.h"
#include "features/video_stats.h"
#include "features/video_vit.h"

namespace spir {

std::unique_ptr<VideoEncoder> make_video_encoder(const VideoEncoderOptions& opt) {
  if (opt.frames < 1) throw Error("video encoder: --video-frames must be at least 1");
  if (opt.spec == "stats") return make_stats_video_encoder(opt.frames);
  if (opt.spec.rfind("vit:", 0) == 0 && opt.spec.size() > 4) return make_vit_video_encoder(opt.spec.substr(4), opt.frames);
  throw Error("unknown video encoder '" + opt.spec + "'; valid specs: stats, vit:DIR");
}

}  // namespace spir
