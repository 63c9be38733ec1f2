#include "features/text_encoder.h"

#include "core/error.h"
#include "features/text_bert.h"
#include "features/text_fasttext.h"
#include "features/text_hash.h"

namespace spir {

std::unique_ptr<TextEncoder> make_text_encoder(const TextEncoderOptions& opt, const std::vector<std::string>& corpus) {
  const std::string& spec = opt.spec;
  if (spec == "hash") return make_hash_text_encoder(opt.dim, opt.seed);
  if (spec == "fasttext") return make_fasttext_text_encoder(opt, corpus);
  const std::string bert = "bert:";
  if (spec.compare(0, bert.size(), bert) == 0) {
    const std::string dir = spec.substr(bert.size());
    if (dir.empty()) throw Error("text encoder spec 'bert:' needs a checkpoint folder, e.g. bert:/models/roberta");
    return make_bert_text_encoder(dir, opt);
  }
  throw Error("unknown text encoder '" + spec + "'; valid specs: hash, fasttext, bert:DIR");
}

}  // namespace spir
