#include "features/video_vit.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include "core/error.h"
#include "features/vit.h"

namespace spir {
namespace {

// An opened video stream and its decoder; everything is freed on destruction.
struct VideoInput {
  AVFormatContext* fmt = nullptr;
  AVCodecContext* codec = nullptr;
  int stream = -1;

  ~VideoInput() {
    avcodec_free_context(&codec);
    avformat_close_input(&fmt);
  }
  // Opens path's best video stream and its decoder; false when any step fails.
  bool open(const std::string& path) {
    if (avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) < 0) return false;
    if (avformat_find_stream_info(fmt, nullptr) < 0) return false;
    stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (stream < 0) return false;
    const AVCodec* dec = avcodec_find_decoder(fmt->streams[stream]->codecpar->codec_id);
    if (!dec) return false;
    codec = avcodec_alloc_context3(dec);
    if (!codec || avcodec_parameters_to_context(codec, fmt->streams[stream]->codecpar) < 0) return false;
    return avcodec_open2(codec, dec, nullptr) >= 0;
  }
};

// Number of packets of the video stream: the frame count for the codecs short videos use (one frame per packet).
int64_t count_video_packets(const std::string& path) {
  AVFormatContext* fmt = nullptr;
  if (avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) < 0) return 0;
  int64_t n = 0;
  if (avformat_find_stream_info(fmt, nullptr) >= 0) {
    const int stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    AVPacket* pkt = av_packet_alloc();
    while (stream >= 0 && pkt && av_read_frame(fmt, pkt) >= 0) {
      if (pkt->stream_index == stream) ++n;
      av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
  }
  avformat_close_input(&fmt);
  return n;
}

// Decodes `count` frames at uniformly spaced positions (the middle of each of `count` equal spans of the video's
// frames), each scaled to size × size RGB24, into rgb (count × size × size × 3 bytes). When the video has fewer frames
// than asked, frames repeat. Decodes sequentially, so cost grows with the video's length. False when unreadable.
bool decode_uniform_frames(const std::string& path, int count, int size, std::vector<uint8_t>* rgb) {
  const int64_t total = count_video_packets(path);
  if (total <= 0) return false;
  VideoInput in;
  if (!in.open(path)) return false;
  std::vector<int64_t> targets(count);
  for (int k = 0; k < count; ++k) targets[k] = std::min<int64_t>(total - 1, (2 * k + 1) * total / (2 * count));

  const size_t frame_bytes = static_cast<size_t>(size) * size * 3;
  rgb->assign(frame_bytes * count, 0);
  SwsContext* sws = nullptr;
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  int next = 0;          // next target to fill
  int64_t index = 0;     // decoded frame index
  bool failed = !pkt || !frame;
  // Scales the current frame into every target slot that asks for this index.
  auto take = [&]() {
    while (next < count && targets[next] == index) {
      sws = sws_getCachedContext(sws, frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), size,
                                 size, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr);
      if (!sws) {
        failed = true;
        return;
      }
      uint8_t* dst[4] = {rgb->data() + frame_bytes * next, nullptr, nullptr, nullptr};
      int dst_stride[4] = {size * 3, 0, 0, 0};
      sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, dst_stride);
      ++next;
    }
    ++index;
  };
  auto drain = [&]() {
    while (!failed && next < count && avcodec_receive_frame(in.codec, frame) >= 0) {
      take();
      av_frame_unref(frame);
    }
  };
  while (!failed && next < count && av_read_frame(in.fmt, pkt) >= 0) {
    if (pkt->stream_index == in.stream && avcodec_send_packet(in.codec, pkt) >= 0) drain();
    av_packet_unref(pkt);
  }
  if (!failed && next < count) {
    avcodec_send_packet(in.codec, nullptr);  // flush delayed frames
    drain();
  }
  sws_freeContext(sws);
  av_frame_free(&frame);
  av_packet_free(&pkt);
  if (failed || next == 0) return false;
  // Fewer decodable frames than packets: repeat the last frame taken.
  for (int k = next; k < count; ++k)
    std::memcpy(rgb->data() + frame_bytes * k, rgb->data() + frame_bytes * (next - 1), frame_bytes);
  return true;
}

// Reads a 3-vector (or scalar) field of preprocessor_config.json.
std::vector<float> read_triplet(const nlohmann::json& j, const std::string& path, const char* key, float def) {
  if (!j.contains(key) || j[key].is_null()) return {def, def, def};
  const auto& v = j[key];
  try {
    if (v.is_number()) return {v.get<float>(), v.get<float>(), v.get<float>()};
    if (v.is_array() && v.size() == 3) return {v[0].get<float>(), v[1].get<float>(), v[2].get<float>()};
  } catch (const std::exception&) {
  }
  throw Error(path + ": field '" + key + "': expected a number or 3 numbers");
}

class ViTVideoEncoder : public VideoEncoder {
 public:
  ViTVideoEncoder(const std::string& dir, int frames)
      : name_("vit:" + dir), model_(load_vit_model(dir)), frames_(frames) {
    if (frames_ < 1) throw Error("vit video encoder: frames must be at least 1, got " + std::to_string(frames));
    if (model_->options().num_channels != 3)
      throw Error(dir + "/config.json: field 'num_channels': video frames need 3, got " +
                  std::to_string(model_->options().num_channels));
    std::vector<float> mean = {0.5f, 0.5f, 0.5f}, std = {0.5f, 0.5f, 0.5f};
    float rescale = 1.0f / 255.0f;
    const std::string pre = dir + "/preprocessor_config.json";
    std::ifstream in(pre, std::ios::binary);
    if (in) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(in);
      } catch (const std::exception& e) {
        throw Error(pre + ": bad JSON: " + e.what());
      }
      mean = read_triplet(j, pre, "image_mean", 0.5f);
      std = read_triplet(j, pre, "image_std", 0.5f);
      rescale = read_triplet(j, pre, "rescale_factor", 1.0f / 255.0f)[0];
      if (j.value("do_normalize", true) == false) mean = {0, 0, 0}, std = {1, 1, 1};
    }
    for (float s : std)
      if (s == 0.0f) throw Error(pre + ": field 'image_std': zero");
    mean_ = torch::tensor(mean).view({1, 3, 1, 1});
    std_ = torch::tensor(std).view({1, 3, 1, 1});
    rescale_ = rescale;
  }

  std::string name() const override { return name_; }
  int dim() const override { return static_cast<int>(model_->options().hidden_size); }

  bool encode(const std::string& path, float* out) const override {
    const int size = static_cast<int>(model_->options().image_size);
    std::vector<uint8_t> rgb;
    if (!decode_uniform_frames(path, frames_, size, &rgb)) return false;
    torch::NoGradGuard no_grad;
    const torch::Tensor pixels =
        torch::from_blob(rgb.data(), {frames_, size, size, 3}, torch::kUInt8).permute({0, 3, 1, 2}).to(torch::kFloat32);
    const torch::Tensor x = (pixels * rescale_ - mean_) / std_;
    const torch::Tensor hidden = model_->forward(x);  // [F, 1 + P, H]
    // Eq. 3: the mean of the patch tokens ([CLS] left out) over patches and frames.
    const torch::Tensor v =
        hidden.slice(1, 1).mean(std::vector<int64_t>{0, 1}).to(torch::kCPU, torch::kFloat32).contiguous();
    std::memcpy(out, v.data_ptr<float>(), sizeof(float) * dim());
    return true;
  }

 private:
  std::string name_;
  mutable ViTModel model_;  // forward is not const in LibTorch; encode() does not change the weights
  int frames_;
  torch::Tensor mean_, std_;
  float rescale_ = 1.0f / 255.0f;
};

}  // namespace

std::unique_ptr<VideoEncoder> make_vit_video_encoder(const std::string& dir, int frames) {
  return std::make_unique<ViTVideoEncoder>(dir, frames);
}

}  // namespace spir
