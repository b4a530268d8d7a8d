// Session adapters: checking a session's AdapterUses against its Model (shared with
// Model::NewSession) and Session::SetAdapters, which switches them on a live session.
//
// SetAdapters keeps the session's KV cache and buffers: the new LoraSet is assigned into the
// session's set in place (LoraSet::Assign reuses its term table) and the forward scratch grows
// only when the new terms need a larger rank, a wider matrix or more kernel bytes
// (ForwardScratch::ReserveLora). Everything is checked before anything changes.
#include <string>
#include <utility>

#include "base/check.h"
#include "engine/adapter_impl.h"
#include "engine/model_impl.h"

namespace tessera {

Status ToLoraUses(const Model::Impl& m, std::span<const AdapterUse> adapters,
                  std::vector<model::LoraUse>& uses) {
  uses.clear();
  for (std::size_t i = 0; i < adapters.size(); ++i) {
    const AdapterUse& use = adapters[i];
    if (use.adapter == nullptr) {
      return InvalidArgument("engine: session adapter " + std::to_string(i) + " is null");
    }
    if (!use.adapter->impl().BoundTo(m)) {
      return InvalidArgument("engine: session adapter " + std::to_string(i) + " (\"" +
                             use.adapter->path() + "\") was opened for another base model, not \"" +
                             m.path + "\" (open it with this Model)");
    }
    uses.push_back(model::LoraUse{use.adapter->impl().lora.get(), use.scale});
  }
  return Status::Ok();
}

Status Session::SetAdapters(std::vector<AdapterUse> adapters) {
  return impl_->SetAdapters(std::move(adapters));
}

Status Session::Impl::SetAdapters(std::vector<AdapterUse> uses) {
  // lora_uses is staging only (rewritten by every call), so failing here changes nothing the
  // session uses. Assign checks every use before it touches the set.
  TS_RETURN_IF_ERROR(ToLoraUses(*model, uses, lora_uses));
  if (Status st = lora.Assign(*model->llama, lora_uses); !st.ok()) {
    return st.WithContext("engine: session adapters");
  }
  // Cannot fail: the set was just built over this model (ReserveLora checks only its depth).
  const Status grown = scratch.ReserveLora(*model->llama, lora);
  TS_CHECK(grown.ok());
  adapters = std::move(uses);  // releases the previous adapters (the set no longer uses them)
  Reset();
  return Status::Ok();
}

}  // namespace tessera
